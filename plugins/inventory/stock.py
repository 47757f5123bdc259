"""Items and their life: receive, move (bulk in part), assign, install, return, retire, RMA;
lookup by any identifier; the history of an item.

Every change writes a :class:`Movement` with who and when. Validation happens before the
first write, and the functions never commit: an error leaves nothing written (callers roll
back or run inside a GraphQL mutation's savepoint). Bad input raises
``marshmallow.ValidationError`` keyed by field; a receive of several items keys its errors
``items.<n>.<field>`` so that the intake screen and the CSV import can point at the row.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import audit, current_actor, db, plugin_enabled, utcnow

from . import values as V
from .models import (
    CONDITIONS,
    HOLDER_TYPES,
    IDENTIFIER_TYPES,
    Identifier,
    Item,
    ItemModel,
    Location,
    Movement,
)

MAX_BATCH = 1000
MAX_QUANTITY = Decimal("1000000000")


# ------------------------------------------------------------------------ values of a model
@dataclass
class Prepared:
    """One item's validated input: identifiers ``(kind, key, value)`` and other attributes."""

    identifiers: list[tuple[str, str, str]]
    attributes: dict


def prepare(model: ItemModel, raw: dict) -> Prepared:
    """Validate ``raw`` (field key -> value) against the model's fields; errors by key."""
    known = {f["key"]: f for f in model.fields}
    errors: dict[str, list[str]] = {}
    unknown = [k for k in raw if k not in known]
    if unknown:
        errors["_schema"] = [f"{model.name} has no field(s) {', '.join(sorted(unknown)[:5])}"]
    idents, attrs = [], {}
    for key, field in known.items():
        value = raw.get(key)
        if value is None or str(value).strip() == "":
            if field["required"]:
                errors[key] = [f"{field['label']} is required for a {model.name}"]
            continue
        try:
            clean = V.normalise(field, value)
        except ValueError as exc:
            errors[key] = [str(exc)]
            continue
        if field["type"] in IDENTIFIER_TYPES:
            idents.append((field["type"], key, clean))
        elif field["unique"]:
            idents.append((f"{model.id}:{key}", key, clean))
            attrs[key] = clean
        else:
            attrs[key] = clean
    if errors:
        raise ValidationError(errors)
    return Prepared(idents, attrs)


def taken(pairs: list[tuple[str, str]], exclude_item: int | None = None) -> dict:
    """``{(kind, value): item_id}`` for the pairs some item already carries."""
    if not pairs:
        return {}
    query = sa.select(Identifier.kind, Identifier.value, Identifier.item_id).where(
        sa.tuple_(Identifier.kind, Identifier.value).in_(pairs))
    if exclude_item is not None:
        query = query.where(Identifier.item_id != exclude_item)
    return {(k, v): i for k, v, i in db.session.execute(query)}


def check_batch(model: ItemModel, entries: list[dict], labels: list[str] | None = None,
                ) -> tuple[list[Prepared | None], dict]:
    """Validate many items at once: ``(prepared or None per entry, {"items.n.key": [...]})``
    with values already used (in the database or earlier in the batch) flagged too.
    ``labels`` name the entries in messages ("line 7"; default "item 3")."""
    labels = labels or [f"item {n + 1}" for n in range(len(entries))]
    if len(entries) > MAX_BATCH:
        raise ValidationError({"items": [f"at most {MAX_BATCH} items at a time"]})
    prepared: list[Prepared | None] = []
    errors: dict[str, list[str]] = {}
    for n, raw in enumerate(entries):
        try:
            prepared.append(prepare(model, raw))
        except ValidationError as exc:
            prepared.append(None)
            for key, msgs in exc.normalized_messages().items():
                errors[f"items.{n}.{key}"] = list(msgs)
    pairs = [(k, v) for p in prepared if p for k, _key, v in p.identifiers]
    used = taken(pairs)
    first_seen: dict[tuple[str, str], int] = {}
    for n, p in enumerate(prepared):
        for kind, key, value in (p.identifiers if p else []):
            if (kind, value) in used:
                errors.setdefault(f"items.{n}.{key}", []).append(
                    f"{value} is already used by item #{used[(kind, value)]}")
            elif (kind, value) in first_seen:
                errors.setdefault(f"items.{n}.{key}", []).append(
                    f"{value} is scanned twice in this batch ({labels[first_seen[(kind, value)]]})")
            else:
                first_seen[(kind, value)] = n
    return prepared, errors


# --------------------------------------------------------------------------- small helpers
def parse_quantity(raw, field: str = "quantity") -> Decimal:
    try:
        qty = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [f"'{str(raw)[:20]}' is not a quantity"]}) from None
    if not qty.is_finite() or qty <= 0 or qty > MAX_QUANTITY or qty != qty.quantize(
            Decimal("0.001")):
        raise ValidationError({field: ["a positive quantity with at most 3 decimals"]})
    return qty


def _location(location_id, field: str = "location_id") -> Location:
    row = db.session.get(Location, location_id) if location_id else None
    if row is None:
        raise ValidationError({field: ["choose an existing location"]})
    return row


def _condition(condition: str | None) -> str | None:
    if condition is not None and condition not in CONDITIONS:
        raise ValidationError({"condition": [f"one of {', '.join(CONDITIONS)}"]})
    return condition


def check_holder(holder_type: str, holder_id) -> tuple[str, int]:
    """An account, an address, a network site or a network device that exists."""
    if holder_type not in HOLDER_TYPES:
        raise ValidationError({"holder_type": [f"one of {', '.join(HOLDER_TYPES)}"]})
    try:
        holder_id = int(holder_id)
    except (TypeError, ValueError):
        raise ValidationError({"holder_id": ["a number"]}) from None
    from backhaul.sdk.accounts import Address, get_account

    if holder_type == "account":
        ok = get_account(holder_id) is not None
    elif holder_type == "address":
        ok = db.session.get(Address, holder_id) is not None
    elif not plugin_enabled("network"):
        raise ValidationError({"holder_type": ["sites and devices need the network plugin"]})
    elif holder_type == "device":
        from backhaul.plugins.network.api import device

        ok = device(holder_id) is not None
    else:  # the network plugin publishes no site lookup yet: any positive id is taken
        ok = holder_id > 0
    if not ok:
        raise ValidationError({"holder_id": [f"there is no {holder_type} {holder_id}"]})
    return holder_type, holder_id


def _lock(item: Item) -> Item:
    """Re-read the item under a row lock: two people moving the same cable cannot both take
    the last metres."""
    db.session.flush()
    return db.session.get(Item, item.id, with_for_update=True, populate_existing=True)


def _record(item: Item, action: str, quantity: Decimal, *, before: tuple, reference: str = "",
            note: str = "", related: int | None = None) -> Movement:
    from_loc, from_type, from_id = before
    row = Movement(item_id=item.id, action=action, at=utcnow(), actor=str(current_actor())[:200],
                   quantity=quantity, from_location_id=from_loc, to_location_id=item.location_id,
                   from_holder_type=from_type, from_holder_id=from_id,
                   to_holder_type=item.holder_type, to_holder_id=item.holder_id,
                   status=item.status, related_item_id=related, reference=reference[:100],
                   note=(note or "")[:500])
    db.session.add(row)
    return row


def _where(item: Item) -> tuple:
    return item.location_id, item.holder_type, item.holder_id


# ------------------------------------------------------------------------------ receiving
def receive(model_id: int, location_id: int, entries: list[dict] | None = None, *,
            quantity=None, condition: str = "new", reference: str = "",
            management_address: str = "") -> list[Item]:
    """Receive serialized items (one per entry of field values) or a quantity of a bulk model
    into a location: all of them or, on any error, none."""
    model = db.session.get(ItemModel, model_id)
    if model is None:
        raise ValidationError({"model_id": ["choose an existing model"]})
    location = _location(location_id)
    condition = _condition(condition) or "new"
    if model.is_bulk:
        return [_receive_bulk(model, location, parse_quantity(quantity), condition, reference,
                              (entries or [{}])[0] if entries else {})]
    entries = entries or []
    if not entries:
        raise ValidationError({"items": ["nothing to receive"]})
    prepared, errors = check_batch(model, entries)
    if errors:
        raise ValidationError(errors)
    address = management(management_address)
    items = []
    for p in prepared:
        item = Item(model_id=model.id, status="in_stock", condition=condition,
                    quantity=Decimal(1), location_id=location.id, attributes=p.attributes,
                    management_address=address)
        db.session.add(item)
        items.append((item, p))
    db.session.flush()
    for item, p in items:
        db.session.add_all(Identifier(item_id=item.id, kind=k, field_key=key, value=v)
                           for k, key, v in p.identifiers)
        _record(item, "receive", Decimal(1), before=(None, None, None), reference=reference)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # received by someone else between the check and now
        raise ValidationError({"items": ["an identifier in this batch was received by someone "
                                         "else a moment ago: check the batch again"]}) from None
    from .alerts import check_low_stock

    check_low_stock(model.id, location.id)
    return [item for item, _p in items]


def _bulk_at(model: ItemModel, location_id: int, condition: str) -> Item | None:
    return db.session.scalar(sa.select(Item).where(
        Item.model_id == model.id, Item.location_id == location_id, Item.status == "in_stock",
        Item.condition == condition).order_by(Item.id).limit(1).with_for_update())


def _receive_bulk(model, location, qty, condition, reference, raw) -> Item:
    p = prepare(model, raw)
    item = _bulk_at(model, location.id, condition)
    if item is None:
        item = Item(model_id=model.id, status="in_stock", condition=condition,
                    quantity=Decimal(0), location_id=location.id, attributes=p.attributes)
        db.session.add(item)
        db.session.flush()
    item.quantity += qty
    _record(item, "receive", qty, before=(None, None, None), reference=reference)
    db.session.flush()
    from .alerts import check_low_stock

    check_low_stock(model.id, location.id)
    return item


# ------------------------------------------------------------------------------- moving
def _take(item: Item, quantity, verbs: str) -> tuple[Item, Decimal]:
    """For a bulk item, the part that leaves (split off when it is not all of it)."""
    item = _lock(item)
    if not item.model.is_bulk:
        if quantity not in (None, "", 1, "1", Decimal(1)):
            raise ValidationError({"quantity": ["a serialized item moves whole (quantity 1)"]})
        return item, Decimal(1)
    qty = item.quantity if quantity in (None, "") else parse_quantity(quantity)
    if qty > item.quantity:
        raise ValidationError({"quantity": [
            f"only {_fmt(item.quantity)} {item.model.unit} here: you cannot {verbs} "
            f"{_fmt(qty)}"]})
    if qty == item.quantity:
        return item, qty
    part = Item(model_id=item.model_id, status=item.status, condition=item.condition,
                quantity=qty, location_id=item.location_id, holder_type=item.holder_type,
                holder_id=item.holder_id, attributes=dict(item.attributes))
    db.session.add(part)
    item.quantity -= qty
    db.session.flush()
    _record(item, "split", qty, before=_where(item), related=part.id,
            note=f"{_fmt(qty)} {item.model.unit} split off to item #{part.id}")
    _record(part, "split", qty, before=_where(item), related=item.id,
            note=f"split off item #{item.id}")
    return part, qty


def _fmt(qty: Decimal) -> str:
    return format(qty.normalize(), "f")


def move(item: Item, location_id: int, quantity=None, *, reference: str = "",
         note: str = "") -> Item:
    """Move an in-stock item (or part of a bulk one) to another location."""
    target = _location(location_id)
    item = _lock(item)
    if item.status != "in_stock" or item.location_id is None:
        raise ValidationError({"item_id": [f"item #{item.id} is {item.status.replace('_', ' ')}"
                                           ": return it to a location first"]})
    if target.id == item.location_id:
        raise ValidationError({"location_id": ["the item is already there"]})
    source = item.location_id
    part, qty = _take(item, quantity, "move")
    before = _where(part)
    part.location_id = target.id
    _record(part, "move", qty, before=before, reference=reference, note=note)
    db.session.flush()
    from .alerts import check_low_stock

    check_low_stock(part.model_id, source, target.id)
    return part


def assign(item: Item, holder_type: str, holder_id, *, install: bool = False, quantity=None,
           reference: str = "", note: str = "") -> Item:
    """Give an in-stock item (or part of a bulk one) to an account, an address, a site or a
    device: ``assigned``, or ``installed`` with ``install``. An item already assigned to the
    same holder can be installed."""
    holder = check_holder(holder_type, holder_id)
    item = _lock(item)
    if install and item.status == "assigned" and (item.holder_type, item.holder_id) == holder:
        before = _where(item)
        item.status = "installed"
        _record(item, "install", item.quantity, before=before, reference=reference, note=note)
        db.session.flush()
        return item
    if item.status != "in_stock":
        raise ValidationError({"item_id": [f"item #{item.id} is "
                                           f"{item.status.replace('_', ' ')}, not in stock"]})
    source = item.location_id
    part, qty = _take(item, quantity, "hand out")
    before = _where(part)
    part.location_id = None
    part.holder_type, part.holder_id = holder
    part.status = "installed" if install else "assigned"
    _record(part, "install" if install else "assign", qty, before=before, reference=reference,
            note=note)
    db.session.flush()
    from .alerts import check_low_stock

    check_low_stock(part.model_id, source)
    return part


def return_item(item: Item, location_id: int, *, condition: str | None = None,
                reference: str = "", note: str = "") -> Item:
    """Bring an assigned, installed or RMA item back into a location (in stock)."""
    target = _location(location_id)
    condition = _condition(condition)
    item = _lock(item)
    if item.status not in ("assigned", "installed", "rma"):
        raise ValidationError({"item_id": [f"item #{item.id} is "
                                           f"{item.status.replace('_', ' ')}: nothing to return"]})
    before = _where(item)
    item.holder_type = item.holder_id = None
    item.location_id, item.status = target.id, "in_stock"
    if condition:
        item.condition = condition
    _record(item, "return", item.quantity, before=before, reference=reference, note=note)
    db.session.flush()
    from .alerts import check_low_stock

    check_low_stock(item.model_id, target.id)
    return item


def retire(item: Item, *, rma: bool = False, quantity=None, reference: str = "",
           note: str = "") -> Item:
    """Take an item out of service (``retired``) or send it to the vendor (``rma``); a
    bulk item may be retired in part (a cut length of cable)."""
    item = _lock(item)
    if item.status == "retired":
        raise ValidationError({"item_id": [f"item #{item.id} is already retired"]})
    if rma and item.status == "rma":
        raise ValidationError({"item_id": [f"item #{item.id} is already out for RMA"]})
    source = item.location_id
    part, qty = _take(item, quantity, "retire") if item.status == "in_stock" else (
        item, item.quantity)
    before = _where(part)
    part.location_id = part.holder_type = part.holder_id = None
    part.status = "rma" if rma else "retired"
    if rma:
        part.condition = "faulty"
    _record(part, "rma" if rma else "retire", qty, before=before, reference=reference, note=note)
    db.session.flush()
    if source:
        from .alerts import check_low_stock

        check_low_stock(part.model_id, source)
    return part


def management(raw: str | None) -> str:
    """A management address: an IP address or host name (no blanks), or empty."""
    address = (raw or "").strip()
    if len(address) > 255 or any(c.isspace() or c == "\x00" for c in address):
        raise ValidationError({"management_address": ["an IP address or host name"]})
    return address


def current_values(item: Item) -> dict[str, str]:
    """The item's field values by key (identifiers and the rest)."""
    values = dict(item.attributes or {})
    values.update({i.field_key: i.value for i in identifiers([item.id]).get(item.id, [])})
    return values


def set_values(item: Item, changes: dict) -> Item:
    """Correct field values (a MAC misread at intake): validated like a receive, unique
    against every other item; an empty value clears an optional field. Audited."""
    if item.model.is_bulk and changes:
        raise ValidationError({"_schema": ["a bulk item carries no identifiers"]})
    before = current_values(item)
    merged = {k: v for k, v in {**before, **{str(k): v for k, v in changes.items()}}.items()
              if v is not None and str(v).strip() != ""}
    p = prepare(item.model, merged)
    used = taken([(k, v) for k, _key, v in p.identifiers], exclude_item=item.id)
    errors = {key: [f"{v} is already used by item #{used[(k, v)]}"]
              for k, key, v in p.identifiers if (k, v) in used}
    if errors:
        raise ValidationError(errors)
    for row in identifiers([item.id]).get(item.id, []):
        db.session.delete(row)
    db.session.flush()
    db.session.add_all(Identifier(item_id=item.id, kind=k, field_key=key, value=v)
                       for k, key, v in p.identifiers)
    item.attributes = p.attributes
    db.session.flush()
    after = current_values(item)
    if after != before:
        audit.record("inventory.item_values", "inventory_item", item.id,
                     {k: [before.get(k), after.get(k)] for k in set(before) | set(after)
                      if before.get(k) != after.get(k)})
    return item


def update_item(item: Item, *, management_address: str | None = None,
                notes: str | None = None, values: dict | None = None) -> Item:
    """Where a poller reaches the item, free notes, corrected field values (no movement:
    nothing moved)."""
    if values:
        set_values(item, values)
    if management_address is not None:
        item.management_address = management(management_address)
    if notes is not None:
        if len(notes) > 1000:
            raise ValidationError({"notes": ["at most 1000 characters"]})
        item.notes = notes
    db.session.flush()
    return item


# ------------------------------------------------------------------------ reading items
def lookup(raw: str) -> list[Item]:
    """Items carrying ``raw`` as any identifier (MAC, serial, IMSI, ICCID), or ``#id``."""
    raw = (raw or "").strip()[:128]
    if raw.startswith("#") and raw[1:].isdigit():
        item = db.session.get(Item, int(raw[1:]))
        return [item] if item else []
    pairs = V.guess_kinds(raw)
    if not pairs:
        return []
    ids = db.session.scalars(sa.select(Identifier.item_id).where(
        sa.tuple_(Identifier.kind, Identifier.value).in_(pairs))).all()
    return db.session.scalars(sa.select(Item).where(Item.id.in_(ids)).order_by(Item.id)
                              ).all() if ids else []


def find(kind: str, value: str) -> Item | None:
    """The item whose identifier of ``kind`` is ``value`` (normalised first)."""
    if kind not in IDENTIFIER_TYPES:
        raise ValueError(f"kind is one of {', '.join(IDENTIFIER_TYPES)}")
    try:
        clean = V.NORMALISERS[kind](value)
    except ValueError:
        return None
    item_id = db.session.scalar(sa.select(Identifier.item_id).where(
        Identifier.kind == kind, Identifier.value == clean))
    return db.session.get(Item, item_id) if item_id else None


def identifiers(item_ids) -> dict[int, list[Identifier]]:
    out: dict[int, list[Identifier]] = {}
    ids = list(item_ids)
    if ids:
        for row in db.session.scalars(sa.select(Identifier).where(
                Identifier.item_id.in_(ids)).order_by(Identifier.id)):
            out.setdefault(row.item_id, []).append(row)
    return out


def history(item_id: int, limit: int = 500) -> list[Movement]:
    return db.session.scalars(sa.select(Movement).where(Movement.item_id == item_id)
                              .order_by(Movement.at, Movement.id).limit(limit)).all()


def held_by(holder_type: str, holder_id: int) -> list[Item]:
    return db.session.scalars(sa.select(Item).where(
        Item.holder_type == holder_type, Item.holder_id == holder_id,
        Item.status.in_(("assigned", "installed"))).order_by(Item.id)).all()


def in_location(location_ids) -> list[Item]:
    return db.session.scalars(sa.select(Item).where(
        Item.location_id.in_(list(location_ids)), Item.status == "in_stock")
        .order_by(Item.model_id, Item.id)).all()
