"""Low stock: a threshold per model and location; when the in-stock quantity of the model in
the location (and every location below it) drops under the minimum, one notification goes out
through the notifications plugin; it re-arms once stock is back at or above the minimum.

Notifications are addressed to accounts, so the alert goes to the contacts (and webhooks) of
the account named by the ``alert_account`` setting — the ISP's own "house" account. Without
one, the alert is still recorded (audit trail, ``alerted_at``) and shown on the inventory page.
"""
from __future__ import annotations

import logging
from decimal import Decimal

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import audit, current_plugin_settings, db, utcnow

from .catalogue import ancestors, path, subtree_ids
from .models import Item, ItemModel, Location, Threshold

log = logging.getLogger("backhaul.inventory")
EVENT = "inventory.low_stock"


def event_types():
    from backhaul.plugins.notifications.api import EventType, Variable

    return [EventType(
        EVENT, "Low stock", category="service", essential=True,
        description="Stock of a model in a location fell under its threshold (to staff: the "
                    "account set as the inventory's alert account).",
        variables=(Variable("model", "Manufacturer and model", "Ubiquiti LiteBeam 5AC"),
                   Variable("location", "Location path", "Main warehouse › Shelf A › Bin 3"),
                   Variable("quantity", "In stock now", "2"),
                   Variable("minimum", "The threshold", "5")),
        defaults={"email": ("Low stock: {{ model }} in {{ location }}",
                            "{{ quantity }} left of {{ model }} in {{ location }} (minimum "
                            "{{ minimum }}).", None)})]


def set_threshold(model_id: int, location_id: int, minimum) -> Threshold | None:
    """Set (or with ``minimum`` 0, remove) the threshold of a model in a location."""
    from .stock import parse_quantity

    if db.session.get(ItemModel, model_id) is None:
        raise ValidationError({"model_id": ["choose an existing model"]})
    if db.session.get(Location, location_id) is None:
        raise ValidationError({"location_id": ["choose an existing location"]})
    row = db.session.scalar(sa.select(Threshold).where(
        Threshold.model_id == model_id, Threshold.location_id == location_id))
    if _is_zero(minimum):
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    minimum = parse_quantity(minimum, "minimum")
    if row is None:
        row = Threshold(model_id=model_id, location_id=location_id, minimum=minimum)
        db.session.add(row)
    row.minimum, row.alerted_at = minimum, None
    db.session.flush()
    check_low_stock(model_id, location_id)
    return row


def _is_zero(raw) -> bool:
    try:
        return Decimal(str(raw).strip() or "0") == 0
    except ArithmeticError:  # not a number: parse_quantity says why
        return False


def in_stock(model_id: int, location_id: int) -> Decimal:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Item.quantity), 0)).where(
        Item.model_id == model_id, Item.status == "in_stock",
        Item.location_id.in_(subtree_ids(location_id)))) or Decimal(0)


def check_low_stock(model_id: int, *location_ids: int | None) -> list[Threshold]:
    """Re-check the thresholds of ``model_id`` on these locations and their parents; returns
    those that alerted now."""
    affected = {loc.id for lid in location_ids if lid
                for loc in ancestors(db.session.get(Location, lid))}
    if not affected:
        return []
    alerted = []
    for row in db.session.scalars(sa.select(Threshold).where(
            Threshold.model_id == model_id, Threshold.location_id.in_(affected))):
        quantity = in_stock(model_id, row.location_id)
        if quantity >= row.minimum:
            row.alerted_at = None
        elif row.alerted_at is None:
            row.alerted_at = utcnow()
            _alert(row, quantity)
            alerted.append(row)
    db.session.flush()
    return alerted


def _alert(row: Threshold, quantity: Decimal) -> None:
    model = db.session.get(ItemModel, row.model_id)
    location = db.session.get(Location, row.location_id)
    context = {"model": model.label, "location": path(location),
               "quantity": format(quantity.normalize(), "f"),
               "minimum": format(row.minimum.normalize(), "f")}
    audit.record("inventory.low_stock", "inventory_threshold", row.id, context)
    number = (current_plugin_settings("inventory").get("alert_account") or "").strip()
    if not number:
        log.warning("low stock (%s) and no alert_account configured", context)
        return
    from backhaul.sdk import plugin_enabled
    from backhaul.sdk.accounts import get_account_by_number

    account = get_account_by_number(number)
    if account is None:
        log.warning("low stock: alert_account %s does not exist", number)
        return
    if plugin_enabled("notifications"):
        from backhaul.plugins.notifications.api import notify

        notify(EVENT, account.id, context,
               dedupe_key=f"low-stock:{row.id}:{row.alerted_at.isoformat()}")


def low_stock() -> list[tuple[Threshold, Decimal]]:
    """Every threshold currently under its minimum, with the quantity in stock."""
    out = []
    for row in db.session.scalars(sa.select(Threshold).order_by(Threshold.id)):
        quantity = in_stock(row.model_id, row.location_id)
        if quantity < row.minimum:
            out.append((row, quantity))
    return out
