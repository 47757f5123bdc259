"""The desk's set-up: groups, categories and the inbound addresses that feed them.

Plain functions; none commits. Errors are ``ValidationError`` keyed like the GraphQL inputs.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError, validate

from backhaul.sdk import db

from .models import Category, Group, InboundAddress


def _name(value, model, row) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 100 or "\x00" in name:
        raise ValidationError({"name": ["1-100 characters (no NUL)"]})
    clash = db.session.scalar(sa.select(model.id).where(model.name == name))
    if clash is not None and (row is None or clash != row.id):
        raise ValidationError({"name": [f"'{name}' exists already"]})
    return name


def _get(model, value, field: str, required: bool = True):
    if value in (None, "") and not required:
        return None
    try:
        row = db.session.get(model, int(value))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise ValidationError({field: [f"there is no {model.__tablename__[8:]} {value}"]})
    return row


def save_group(name: str, group: Group | None = None) -> Group:
    group = group or Group()
    group.name = _name(name, Group, group if group.id else None)
    db.session.add(group)
    db.session.flush()
    return group


def save_category(name: str, category: Category | None = None) -> Category:
    category = category or Category()
    category.name = _name(name, Category, category if category.id else None)
    db.session.add(category)
    db.session.flush()
    return category


def save_inbound_address(data: dict, row: InboundAddress | None = None) -> InboundAddress:
    """``address``, ``groupId``, optional ``categoryId`` and ``name`` (the display name)."""
    address = str(data.get("address") or "").strip().lower()
    try:
        validate.Email()(address)
        if len(address) > 254:
            raise ValidationError("too long")
    except ValidationError:
        raise ValidationError({"address": ["a valid e-mail address"]}) from None
    clash = db.session.scalar(sa.select(InboundAddress.id).where(
        InboundAddress.address == address))
    if clash is not None and (row is None or clash != row.id):
        raise ValidationError({"address": [f"{address} is already an inbound address"]})
    display = " ".join(str(data.get("name") or "").split())
    if len(display) > 100 or "\x00" in display:
        raise ValidationError({"name": ["at most 100 characters (no NUL)"]})
    group = _get(Group, data.get("groupId"), "groupId")
    category = _get(Category, data.get("categoryId"), "categoryId", required=False)
    row = row or InboundAddress()
    row.address, row.name, row.group_id = address, display, group.id
    row.category_id = category.id if category else None
    db.session.add(row)
    db.session.flush()
    return row
