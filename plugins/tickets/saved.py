"""Saved views of the queue: a name for a set of filters, kept for one staff member or
shared with the desk. Only the list's own keys are kept, each bounded; nothing else of a
query string is stored or replayed."""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db, may

from . import desk
from .models import PRIORITIES, STATUSES, SavedView

#: the queue's filters a view may keep (the list page's query-string keys)
KEYS = ("group", "status", "priority", "category", "assignee", "q", "sort")
SORTS = ("token", "subject", "status", "priority", "activity")
MAX_VIEWS = 50


def clean_filters(raw: dict) -> dict:
    """Keep known keys with plausible values; raise on values that cannot be right."""
    out = {}
    for key in KEYS:
        value = str(raw.get(key) or "").strip()
        if not value:
            continue
        if "\x00" in value:
            raise ValidationError({key: ["must not contain a NUL character"]})
        if key in ("group", "category") and not value.isdigit():
            raise ValidationError({key: ["an id"]})
        if key == "status" and value not in (*STATUSES, "active"):
            raise ValidationError({key: [f"one of active, {', '.join(STATUSES)}"]})
        if key == "priority" and value not in PRIORITIES:
            raise ValidationError({key: [f"one of {', '.join(PRIORITIES)}"]})
        if key == "assignee" and not (value in ("me", "none") or value.isdigit()):
            raise ValidationError({key: ["me, none or a staff id"]})
        if key == "sort" and value.lstrip("-") not in SORTS:
            raise ValidationError({key: [f"one of {', '.join(SORTS)} (- for descending)"]})
        out[key] = value[:200]
    return out


def visible_select() -> sa.Select:
    """``select(SavedView)`` of the views the current staff member may use: their own and
    the shared ones."""
    me = desk.actor_user_id()
    return sa.select(SavedView).where(
        sa.or_(SavedView.owner_id.is_(None), SavedView.owner_id == (me or -1)))


def visible() -> list[SavedView]:
    """The views the current staff member may use, their own first, by name."""
    return list(db.session.scalars(visible_select().order_by(SavedView.owner_id.is_(None),
                                                            SavedView.name)))


def save(name: str, filters: dict, shared: bool = False) -> SavedView:
    me = desk.actor_user_id()
    if me is None:
        raise ValidationError({"name": ["only a staff member's session or token can save "
                                        "views"]})
    name = " ".join(str(name or "").split())
    if not name or len(name) > 100 or "\x00" in name:
        raise ValidationError({"name": ["1-100 characters (no NUL)"]})
    owner = None if shared else me
    if db.session.scalar(sa.select(SavedView.id).where(
            SavedView.name == name, SavedView.owner_id.is_(owner) if owner is None
            else SavedView.owner_id == owner)):
        raise ValidationError({"name": [f"a view named '{name}' exists"]})
    if db.session.scalar(sa.select(sa.func.count(SavedView.id)).where(
            SavedView.created_by == me)) >= MAX_VIEWS:
        raise ValidationError({"name": [f"at most {MAX_VIEWS} views each: delete one"]})
    view = SavedView(name=name, owner_id=owner, created_by=me,
                     filters=clean_filters(filters))
    db.session.add(view)
    db.session.flush()
    return view


def delete(view: SavedView) -> None:
    """Your own view, a shared view you saved, or any shared view for a desk manager."""
    me = desk.actor_user_id()
    allowed = view.owner_id == me if view.owner_id is not None else (
        view.created_by == me or may("tickets.settings.manage"))
    if not allowed or me is None:
        raise ValidationError({"id": ["this view is not yours to delete"]})
    db.session.delete(view)
