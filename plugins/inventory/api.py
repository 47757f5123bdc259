"""The inventory plugin's published API (declare ``depends_on=("inventory",)`` or
``optional_depends_on``): what the poller and other plugins read. Plain values only."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from backhaul.sdk import db

from . import stock
from .models import IDENTIFIER_TYPES, Item

KINDS = IDENTIFIER_TYPES


@dataclass(frozen=True)
class InventoryItem:
    """An item as other plugins see it."""

    id: int
    manufacturer: str
    model: str
    category: str
    status: str
    condition: str
    #: ``{"serial": "...", "mac": "aa:bb:..."}``: the item's identifiers by field key
    identifiers: dict
    #: where a poller reaches it ("" when not managed)
    management_address: str
    location_id: int | None
    #: ``("account", 42)``, ``("device", 7)``...; None in stock
    holder: tuple[str, int] | None


def _plain(items: list[Item]) -> list[InventoryItem]:
    idents = stock.identifiers(i.id for i in items)
    return [InventoryItem(i.id, i.model.manufacturer.name, i.model.name, i.model.category,
                          i.status, i.condition,
                          {r.field_key: r.value for r in idents.get(i.id, [])},
                          i.management_address, i.location_id,
                          (i.holder_type, i.holder_id) if i.holder_type else None)
            for i in items]


def item_by_identifier(kind: str, value: str) -> InventoryItem | None:
    """The item whose ``kind`` identifier (``mac``, ``serial``, ``imsi``, ``iccid``) is
    ``value``, in any accepted spelling (``AA-BB-CC-DD-EE-FF`` finds ``aa:bb:..``)."""
    item = stock.find(kind, value)
    return _plain([item])[0] if item else None


def items_for_polling() -> list[InventoryItem]:
    """Installed or assigned items with a management address, for the poller: each with its
    model (manufacturer, category) so a polling template can be chosen."""
    items = db.session.scalars(sa.select(Item).where(
        Item.management_address != "", Item.status.in_(("installed", "assigned")))
        .order_by(Item.id)).all()
    return _plain(items)


def items_held_by(holder_type: str, holder_id: int) -> list[InventoryItem]:
    """What an account, address, site or device holds now."""
    return _plain(stock.held_by(holder_type, holder_id))


def get_item(item_id: int) -> InventoryItem | None:
    """One item, or ``None``."""
    item = db.session.get(Item, item_id)
    return _plain([item])[0] if item is not None else None


def items_in_stock(search: str = "", limit: int = 100) -> list[InventoryItem]:
    """Serialized items in stock (not bulk quantities), for a picker: all of them, or those
    whose identifier, model or manufacturer contains ``search``; at most ``limit`` (up to
    500), oldest first."""
    from .models import Identifier, ItemModel, Manufacturer

    stmt = (sa.select(Item).join(ItemModel, Item.model_id == ItemModel.id)
            .join(Manufacturer, ItemModel.manufacturer_id == Manufacturer.id)
            .where(Item.status == "in_stock", ItemModel.category != "bulk"))
    words = " ".join(str(search or "").split())[:100]
    if words:
        like = f"%{words}%"
        stmt = stmt.where(sa.or_(
            ItemModel.name.ilike(like), Manufacturer.name.ilike(like),
            Item.id.in_(sa.select(Identifier.item_id).where(Identifier.value.ilike(like)))))
    items = db.session.scalars(stmt.order_by(Item.id).limit(max(1, min(limit, 500)))).all()
    return _plain(items)


def stock_locations() -> list[tuple[int, str]]:
    """``(id, "CODE name")`` of every location, for choosing where collected items go."""
    from .models import Location

    return [(r.id, f"{r.code} {r.name}") for r in db.session.scalars(
        sa.select(Location).order_by(Location.code))]


def install_item(item_id: int, holder_type: str, holder_id: int, *, reference: str = "",
                 note: str = "") -> InventoryItem:
    """Install an in-stock item (or one assigned to the same holder) at an account,
    address, site or device, recording the movement. Raises
    ``marshmallow.ValidationError`` when the item is not there to install (field
    ``item_id``) or the holder does not exist. Does not commit."""
    from marshmallow import ValidationError

    item = db.session.get(Item, item_id)
    if item is None:
        raise ValidationError({"item_id": [f"there is no item #{item_id}"]})
    return _plain([stock.assign(item, holder_type, holder_id, install=True,
                                reference=reference, note=note)])[0]


def collect_item(item_id: int, location_id: int, *, condition: str | None = None,
                 reference: str = "", note: str = "") -> InventoryItem:
    """Bring an assigned or installed item back into a location (in stock), recording the
    movement. Raises ``marshmallow.ValidationError`` (fields ``item_id``, ``location_id``).
    Does not commit."""
    from marshmallow import ValidationError

    item = db.session.get(Item, item_id)
    if item is None:
        raise ValidationError({"item_id": [f"there is no item #{item_id}"]})
    return _plain([stock.return_item(item, location_id, condition=condition,
                                     reference=reference, note=note)])[0]


__all__ = ["KINDS", "InventoryItem", "collect_item", "get_item", "install_item",
           "item_by_identifier", "items_for_polling", "items_held_by", "items_in_stock",
           "stock_locations"]
