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


__all__ = ["KINDS", "InventoryItem", "item_by_identifier", "items_for_polling", "items_held_by"]
