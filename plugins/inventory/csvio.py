"""CSV import and export of items.

Import is all or nothing: every row is validated first (model, location, condition,
quantity, and each of the model's fields with the same rules as a scan), identifiers already
used or repeated in the file are flagged, and every bad row is reported by its line number.
Only a clean file receives anything. Columns: ``model`` (``Manufacturer Model`` or the model
id), ``location`` (a location code), optional ``condition`` and ``quantity`` (bulk models),
then one column per field key (``serial``, ``mac``...).
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db

from .models import CONDITIONS, Identifier, Item, ItemModel, Location
from .stock import check_batch, parse_quantity, receive

MAX_BYTES = 2_000_000
MAX_ROWS = 5000
MAX_EXPORT = 200_000
FIXED = ("model", "location", "condition", "quantity")


def _models() -> dict[str, ItemModel]:
    out = {}
    for m in db.session.scalars(sa.select(ItemModel)):
        out[m.label.lower()] = m
        out[str(m.id)] = m
    return out


def import_items(text: str, reference: str = "csv import") -> list[Item]:
    """Receive every row of ``text`` or none; ``ValidationError({"csv": [...]})`` lists every
    problem as ``line N: field: message``."""
    if len(text.encode()) > MAX_BYTES:
        raise ValidationError({"csv": [f"the file is over {MAX_BYTES // 1_000_000} MB"]})
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"model", "location"} <= {
            (f or "").strip().lower() for f in reader.fieldnames}:
        raise ValidationError({"csv": ["the first line must name the columns, with at least "
                                       "model and location"]})
    models = _models()
    locations = {loc.code.lower(): loc for loc in db.session.scalars(sa.select(Location))}
    problems: list[str] = []
    groups: dict[tuple, list[tuple[int, dict]]] = defaultdict(list)
    bulk: list[tuple[int, ItemModel, Location, str, Decimal]] = []
    for n, row in enumerate(reader):
        line = n + 2
        if n >= MAX_ROWS:
            problems.append(f"line {line}: at most {MAX_ROWS} rows per file")
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()
               if k is not None}
        model = models.get(row.get("model", "").lower())
        location = locations.get(row.get("location", "").lower())
        condition = row.get("condition") or "new"
        bad = []
        if model is None:
            bad.append(f"model: no model '{row.get('model', '')}'")
        if location is None:
            bad.append(f"location: no location with code '{row.get('location', '')}'")
        if condition not in CONDITIONS:
            bad.append(f"condition: one of {', '.join(CONDITIONS)}")
        if bad:
            problems.extend(f"line {line}: {b}" for b in bad)
            continue
        values = {k: v for k, v in row.items() if k not in FIXED and v != ""}
        if model.is_bulk:
            try:
                bulk.append((line, model, location, condition,
                             parse_quantity(row.get("quantity") or "")))
            except ValidationError as exc:
                problems.append(f"line {line}: quantity: {exc.messages['quantity'][0]}")
            continue
        if row.get("quantity") not in (None, "", "1"):
            problems.append(f"line {line}: quantity: a serialized item has quantity 1")
            continue
        groups[(model.id, location.id, condition)].append((line, values))
    problems.extend(_check_groups(groups))
    if problems:
        raise ValidationError({"csv": sorted(problems, key=_line_number)})
    items: list[Item] = []
    for (model_id, location_id, condition), rows in groups.items():
        items += receive(model_id, location_id, [v for _l, v in rows], condition=condition,
                         reference=reference)
    for _line, model, location, condition, qty in bulk:
        items += receive(model.id, location.id, quantity=qty, condition=condition,
                         reference=reference)
    return items


def _check_groups(groups) -> list[str]:
    problems, seen = [], {}
    for (model_id, _loc, _cond), rows in groups.items():
        model = db.session.get(ItemModel, model_id)
        prepared, errors = check_batch(model, [v for _l, v in rows],
                                       [f"line {line}" for line, _v in rows])
        for key, messages in errors.items():
            _items, n, field = key.split(".", 2)
            field = "" if field == "_schema" else f"{field}: "
            problems.extend(f"line {rows[int(n)][0]}: {field}{m}" for m in messages)
        for (line, _v), p in zip(rows, prepared, strict=True):
            for kind, key, value in (p.identifiers if p else []):
                if (kind, value) in seen and seen[(kind, value)][0] != model_id:
                    problems.append(f"line {line}: {key}: {value} is also on line "
                                    f"{seen[(kind, value)][1]}")
                seen.setdefault((kind, value), (model_id, line))
    return problems


def _line_number(problem: str) -> int:
    return int(problem.split(":")[0].split()[1])


def export_items(query=None) -> str:
    """Items as CSV (the import's columns plus id, status, holder), for spreadsheets."""
    query = query if query is not None else sa.select(Item).order_by(Item.id)
    if db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) > MAX_EXPORT:
        raise ValidationError({"csv": [f"more than {MAX_EXPORT} items: export them through "
                                       "GraphQL inventoryItems, page by page"]})
    items = db.session.scalars(query).all()
    idents: dict[int, dict[str, str]] = defaultdict(dict)
    ids = [i.id for i in items]
    for start in range(0, len(ids), 1000):
        for row in db.session.scalars(sa.select(Identifier).where(
                Identifier.item_id.in_(ids[start:start + 1000]))):
            idents[row.item_id][row.field_key] = row.value
    codes = dict(db.session.execute(sa.select(Location.id, Location.code)).all())
    keys: list[str] = []
    for item in items:
        for f in item.model.fields:
            if f["key"] not in keys:
                keys.append(f["key"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *FIXED, "status", "holder", *keys])
    for item in items:
        values = {**item.attributes, **idents.get(item.id, {})}
        writer.writerow([item.id, item.model.label, codes.get(item.location_id, ""),
                         item.condition, format(item.quantity.normalize(), "f"), item.status,
                         f"{item.holder_type}:{item.holder_id}" if item.holder_type else "",
                         *[_safe(values.get(k, "")) for k in keys]])
    return out.getvalue()


def _safe(value) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is quoted with '."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
