"""The inventory plugin's tables (prefix ``inventory_``); migration ``inventory_0001``.

An item is one serialized thing (a router, a SIM) or a quantity of a bulk model (20 keys,
305 m of cable). Its identifiers live in their own table so that one unique index per
(kind, value) keeps every MAC, IMSI, ICCID and serial unique and any of them finds the item.
Movements are never edited or deleted: they are each item's life.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.sdk import TimestampMixin, UTCDateTime, db

CATEGORIES = ("cpe", "router", "switch", "radio", "sim", "general", "bulk")
FIELD_TYPES = ("text", "number", "date", "choice", "mac", "imsi", "iccid", "serial")
#: field types that identify an item: always unique (per type), found by the lookup field
IDENTIFIER_TYPES = ("mac", "serial", "imsi", "iccid")
STATUSES = ("in_stock", "assigned", "installed", "rma", "retired")
CONDITIONS = ("new", "used", "refurbished", "faulty")
LOCATION_KINDS = ("warehouse", "shelf", "bin", "van", "technician")
HOLDER_TYPES = ("account", "address", "site", "device")
ACTIONS = ("receive", "move", "assign", "install", "return", "retire", "rma", "split")

QTY = sa.Numeric(14, 3)


class Manufacturer(TimestampMixin, db.Model):
    __tablename__ = "inventory_manufacturer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)


class ItemModel(TimestampMixin, db.Model):
    """A model: its category and the fields its items carry.

    ``fields`` is a list of ``{"key", "label", "type", "required", "unique", "choices"}``
    (see :mod:`.catalogue`); identifier types are unique whatever ``unique`` says.
    """

    __tablename__ = "inventory_model"
    __table_args__ = (sa.UniqueConstraint("manufacturer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_manufacturer.id"),
                                                 index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    category: Mapped[str] = mapped_column(sa.String(16))
    #: bulk models only: what a quantity counts ("pcs", "m", "box")
    unit: Mapped[str] = mapped_column(sa.String(16), default="")
    fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    manufacturer: Mapped[Manufacturer] = relationship()

    @property
    def label(self) -> str:
        return f"{self.manufacturer.name} {self.name}"

    @property
    def is_bulk(self) -> bool:
        return self.category == "bulk"


class Location(TimestampMixin, db.Model):
    """A warehouse, a shelf in it, a bin on the shelf, a van, a technician."""

    __tablename__ = "inventory_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_location.id"),
                                                  index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: the label on the shelf or the van ("WH1-A-03"): unique, scanned like an item
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(500), default="")


class Item(TimestampMixin, db.Model):
    """Where an item is: in a location (``location_id``) or with a holder (an account, an
    address, a network site or device: ``holder_type``/``holder_id``), never both."""

    __tablename__ = "inventory_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_model.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="in_stock", index=True)
    condition: Mapped[str] = mapped_column(sa.String(16), default="new")
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(1))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_location.id"),
                                                    index=True)
    holder_type: Mapped[str | None] = mapped_column(sa.String(16))
    holder_id: Mapped[int | None] = mapped_column()
    #: the values of the model's non-identifier fields, by key
    attributes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: where a poller reaches it (an IP address or host name), for managed equipment
    management_address: Mapped[str] = mapped_column(sa.String(255), default="")
    notes: Mapped[str] = mapped_column(sa.String(1000), default="")
    model: Mapped[ItemModel] = relationship()


sa.Index("ix_inventory_item_holder", Item.holder_type, Item.holder_id)


class Identifier(db.Model):
    """One normalised identifier of an item. ``kind`` is ``mac``, ``serial``, ``imsi`` or
    ``iccid``; a model's other unique fields use ``f"{model_id}:{key}"`` so that the same
    index keeps them unique too."""

    __tablename__ = "inventory_identifier"
    __table_args__ = (sa.UniqueConstraint("kind", "value"),)
    __audit__ = False  # written with the item, whose audit entry names them

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_item.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(48))
    #: the model field it fills
    field_key: Mapped[str] = mapped_column(sa.String(48))
    value: Mapped[str] = mapped_column(sa.String(128), index=True)


class Movement(db.Model):
    """One step of an item's life, with who and when. Append-only."""

    __tablename__ = "inventory_movement"
    __audit__ = False  # it is an audit trail of its own

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_item.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    from_location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inventory_location.id"))
    to_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_location.id"))
    from_holder_type: Mapped[str | None] = mapped_column(sa.String(16))
    from_holder_id: Mapped[int | None] = mapped_column()
    to_holder_type: Mapped[str | None] = mapped_column(sa.String(16))
    to_holder_id: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(16))
    #: the other item of a split (the part that left, or the stock it came from)
    related_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_item.id"))
    #: what caused it, e.g. ``event:42`` for a scheduled swap (makes re-runs no-ops)
    reference: Mapped[str] = mapped_column(sa.String(100), default="", index=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")


sa.Index("ix_inventory_movement_to_holder", Movement.to_holder_type, Movement.to_holder_id)


class Threshold(TimestampMixin, db.Model):
    """Low stock: fewer than ``minimum`` in-stock units of a model in a location (and the
    locations below it) notifies once, until stock is back at or above it."""

    __tablename__ = "inventory_threshold"
    __table_args__ = (sa.UniqueConstraint("model_id", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_model.id"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_location.id"))
    minimum: Mapped[Decimal] = mapped_column(QTY)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
