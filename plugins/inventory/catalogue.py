"""Manufacturers, models with their field definitions, and storage locations.

Every function validates, writes through the session without committing (the caller owns
the transaction) and raises ``marshmallow.ValidationError`` keyed by field for bad input.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db

from .models import (
    CATEGORIES,
    FIELD_TYPES,
    IDENTIFIER_TYPES,
    LOCATION_KINDS,
    Item,
    ItemModel,
    Location,
    Manufacturer,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FIELDS = 20
MAX_DEPTH = 8


def _name(value, field: str = "name", limit: int = 100) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        raise ValidationError({field: [f"1-{limit} characters"]})
    return value


def create_manufacturer(name: str) -> Manufacturer:
    name = _name(name)
    if db.session.scalar(sa.select(Manufacturer.id).where(
            sa.func.lower(Manufacturer.name) == name.lower())):
        raise ValidationError({"name": [f"a manufacturer named '{name}' exists"]})
    row = Manufacturer(name=name)
    db.session.add(row)
    db.session.flush()
    return row


def clean_fields(fields: list[dict] | None) -> list[dict]:
    """Validate field definitions; errors are keyed ``fields.<n>.<attribute>``."""
    fields = list(fields or [])
    if len(fields) > MAX_FIELDS:
        raise ValidationError({"fields": [f"at most {MAX_FIELDS} fields"]})
    out, errors, seen = [], {}, set()
    for n, raw in enumerate(fields):
        label = str(raw.get("label") or raw.get("name") or "").strip()
        key = str(raw.get("key") or re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_"))
        kind = str(raw.get("type") or "").strip().lower()
        choices = [str(c).strip() for c in (raw.get("choices") or []) if str(c).strip()]
        problems = {}
        if not label or len(label) > 60:
            problems["label"] = ["1-60 characters"]
        if not _KEY.match(key):
            problems["key"] = ["a lower-case name of letters, digits and _ (e.g. serial)"]
        elif key in seen:
            problems["key"] = [f"'{key}' is used twice"]
        if kind not in FIELD_TYPES:
            problems["type"] = [f"one of {', '.join(FIELD_TYPES)}"]
        elif kind == "choice" and not choices:
            problems["choices"] = ["list the choices"]
        elif len(choices) > 50 or any(len(c) > 60 for c in choices):
            problems["choices"] = ["at most 50 choices of at most 60 characters"]
        if problems:
            errors.update({f"fields.{n}.{k}": v for k, v in problems.items()})
            continue
        seen.add(key)
        out.append({"key": key, "label": label, "type": kind,
                    "required": bool(raw.get("required")),
                    "unique": bool(raw.get("unique")) or kind in IDENTIFIER_TYPES,
                    "choices": choices if kind == "choice" else []})
    if errors:
        raise ValidationError(errors)
    return out


def create_model(manufacturer_id: int, name: str, category: str, fields=None, unit: str = "",
                 description: str = "") -> ItemModel:
    name = _name(name)
    if db.session.get(Manufacturer, manufacturer_id) is None:
        raise ValidationError({"manufacturer_id": [f"there is no manufacturer {manufacturer_id}"]})
    if category not in CATEGORIES:
        raise ValidationError({"category": [f"one of {', '.join(CATEGORIES)}"]})
    cleaned = clean_fields(fields)
    if category == "bulk":
        if any(f["type"] in IDENTIFIER_TYPES or f["unique"] for f in cleaned):
            raise ValidationError({"fields": ["a bulk model counts quantities: its items carry "
                                              "no identifiers or unique fields"]})
        unit = _name(unit or "pcs", "unit", 16)
    else:
        unit = ""
    if db.session.scalar(sa.select(ItemModel.id).where(
            ItemModel.manufacturer_id == manufacturer_id,
            sa.func.lower(ItemModel.name) == name.lower())):
        raise ValidationError({"name": [f"this manufacturer already has a model '{name}'"]})
    row = ItemModel(manufacturer_id=manufacturer_id, name=name, category=category, unit=unit,
                    fields=cleaned, description=(description or "")[:500])
    db.session.add(row)
    db.session.flush()
    return row


def update_model_fields(model: ItemModel, fields) -> ItemModel:
    """Change a model's field definitions. Items already received keep their values; a field
    that became required applies to new items only; an identifier field whose type changes
    would leave stored identifiers of the old type, so it is refused while items use it."""
    cleaned = clean_fields(fields)
    if model.is_bulk and any(f["type"] in IDENTIFIER_TYPES or f["unique"] for f in cleaned):
        raise ValidationError({"fields": ["a bulk model carries no identifiers"]})
    used = db.session.scalar(sa.select(sa.func.count(Item.id)).where(Item.model_id == model.id))
    if used:
        old = {f["key"]: f for f in model.fields}
        for n, field in enumerate(cleaned):
            before = old.get(field["key"])
            if before and (before["type"] != field["type"] or before["unique"] != field["unique"]):
                raise ValidationError({f"fields.{n}.type": [
                    f"{used} item(s) already carry '{field['key']}': add a new field instead "
                    "of changing its type or uniqueness"]})
    model.fields = cleaned
    db.session.flush()
    return model


def rename_manufacturer(row: Manufacturer, name: str) -> Manufacturer:
    name = _name(name)
    if db.session.scalar(sa.select(Manufacturer.id).where(
            sa.func.lower(Manufacturer.name) == name.lower(), Manufacturer.id != row.id)):
        raise ValidationError({"name": [f"a manufacturer named '{name}' exists"]})
    row.name = name
    db.session.flush()
    return row


def update_model(model: ItemModel, *, name: str | None = None, unit: str | None = None,
                 description: str | None = None) -> ItemModel:
    """Rename a model, change its description, a bulk model's unit (fields: see
    :func:`update_model_fields`)."""
    if name is not None:
        name = _name(name)
        if db.session.scalar(sa.select(ItemModel.id).where(
                ItemModel.manufacturer_id == model.manufacturer_id, ItemModel.id != model.id,
                sa.func.lower(ItemModel.name) == name.lower())):
            raise ValidationError({"name": [f"this manufacturer already has a model '{name}'"]})
        model.name = name
    if unit is not None and model.is_bulk:
        model.unit = _name(unit, "unit", 16)
    if description is not None:
        if len(description) > 500:
            raise ValidationError({"description": ["at most 500 characters"]})
        model.description = description
    db.session.flush()
    return model


def update_location(location: Location, *, name: str | None = None,
                    description: str | None = None, parent_id: int | None | str = "") -> Location:
    """Rename, describe or move a location (a van's new technician, a shelf to another
    warehouse). ``parent_id`` ``""`` keeps it, ``None`` makes it top-level; never under
    itself or below itself."""
    if name is not None:
        location.name = _name(name)
    if description is not None:
        if len(description) > 500:
            raise ValidationError({"description": ["at most 500 characters"]})
        location.description = description
    if parent_id != "":
        if parent_id is not None:
            parent = db.session.get(Location, parent_id)
            if parent is None:
                raise ValidationError({"parent_id": [f"there is no location {parent_id}"]})
            if parent.id in subtree_ids(location.id):
                raise ValidationError({"parent_id": ["a location cannot go inside itself or "
                                                     "a location below it"]})
            if parent.kind == "bin":
                raise ValidationError({"parent_id": ["a bin holds items, not other locations"]})
            if len(ancestors(parent)) >= MAX_DEPTH:
                raise ValidationError({"parent_id": [f"locations nest at most {MAX_DEPTH} deep"]})
        location.parent_id = parent_id
    db.session.flush()
    return location


def create_location(code: str, name: str, kind: str, parent_id: int | None = None,
                    description: str = "") -> Location:
    code = _name(code, "code", 64)
    name = _name(name)
    if kind not in LOCATION_KINDS:
        raise ValidationError({"kind": [f"one of {', '.join(LOCATION_KINDS)}"]})
    if db.session.scalar(sa.select(Location.id).where(
            sa.func.lower(Location.code) == code.lower())):
        raise ValidationError({"code": [f"the code '{code}' is taken"]})
    if parent_id is not None:
        parent = db.session.get(Location, parent_id)
        if parent is None:
            raise ValidationError({"parent_id": [f"there is no location {parent_id}"]})
        if len(ancestors(parent)) >= MAX_DEPTH:
            raise ValidationError({"parent_id": [f"locations nest at most {MAX_DEPTH} deep"]})
        if parent.kind == "bin":
            raise ValidationError({"parent_id": ["a bin holds items, not other locations"]})
    row = Location(code=code, name=name, kind=kind, parent_id=parent_id,
                   description=(description or "")[:500])
    db.session.add(row)
    db.session.flush()
    return row


def ancestors(location: Location) -> list[Location]:
    """``location`` and its parents, innermost first."""
    chain, seen = [], set()
    while location is not None and location.id not in seen:
        chain.append(location)
        seen.add(location.id)
        location = db.session.get(Location, location.parent_id) if location.parent_id else None
    return chain


def path(location: Location | None) -> str:
    return " › ".join(loc.name for loc in reversed(ancestors(location))) if location else ""


def subtree_ids(location_id: int) -> set[int]:
    """The location and every location below it."""
    children: dict[int | None, list[int]] = {}
    for lid, parent in db.session.execute(sa.select(Location.id, Location.parent_id)):
        children.setdefault(parent, []).append(lid)
    out, todo = set(), [location_id]
    while todo:
        current = todo.pop()
        if current not in out:
            out.add(current)
            todo.extend(children.get(current, []))
    return out
