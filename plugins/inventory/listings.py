"""The inventory's part of the global search box (any identifier finds its item) and of the
account timeline (equipment handed out, installed or returned)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from backhaul.sdk import SearchResult, TimelineEntry, db, user_may

from . import stock
from .models import Item, Movement

TIMELINE_ACTIONS = {"assign": "Equipment handed over", "install": "Equipment installed",
                    "return": "Equipment returned"}


def search(query: str, user, limit: int) -> list[SearchResult]:
    if not user_may(user, "inventory.view"):
        return []
    found = stock.lookup(query)[:limit]
    idents = stock.identifiers(i.id for i in found)
    return [SearchResult(f"{i.model.label} #{i.id}", url_for("inventory.item", item_id=i.id),
                         "Equipment", " · ".join(f"{x.field_key} {x.value}"
                                                 for x in idents.get(i.id, [])), 0.9)
            for i in found]


def timeline(account, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(sa.select(Movement, Item).join(Item, Item.id == Movement.item_id)
                              .where(Movement.action.in_(TIMELINE_ACTIONS), sa.or_(
                                  sa.and_(Movement.to_holder_type == "account",
                                          Movement.to_holder_id == account.id),
                                  sa.and_(Movement.from_holder_type == "account",
                                          Movement.from_holder_id == account.id)))
                              .order_by(Movement.at.desc()).limit(limit)).all()
    return [TimelineEntry(m.at, "inventory", TIMELINE_ACTIONS[m.action], item.model.label,
                          url_for("inventory.item", item_id=item.id),
                          permission="inventory.view") for m, item in rows]
