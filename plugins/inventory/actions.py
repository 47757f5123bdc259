"""The scheduled-event type "swap equipment": on the due date, the item the account holds is
returned to a location and another item is installed on the account in its place.

Scheduled through the core's account events (``schedule_event(account,
"inventory.swap_equipment", due, {...})``), checked when scheduled and again when run. Running
it twice changes nothing: the movements carry ``event:<id>`` and a second run finds them.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validates_schema

from backhaul.sdk import ScheduledActionType, db
from backhaul.sdk.accounts import event_target

from .models import Item, Location, Movement
from .stock import assign, return_item


class SwapParams(Schema):
    #: the item the account holds now, returned
    remove_item_id = fields.Integer(required=True)
    #: an in-stock item, installed on the account
    install_item_id = fields.Integer(required=True)
    #: where the removed item goes
    return_location_id = fields.Integer(required=True)
    #: the removed item's condition on return (default: unchanged)
    return_condition = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _items(self, data, **_):
        account = event_target().get("account")
        old = db.session.get(Item, data["remove_item_id"])
        new = db.session.get(Item, data["install_item_id"])
        if old is None or (account is not None and (old.holder_type, old.holder_id) != (
                "account", account.id) and not _done_before(old)):
            raise ValidationError("this account does not hold that item", "remove_item_id")
        if new is None or new.id == old.id:
            raise ValidationError("choose another item to install", "install_item_id")
        if db.session.get(Location, data["return_location_id"]) is None:
            raise ValidationError("choose an existing location", "return_location_id")


def _done_before(item: Item) -> bool:
    """When a swap re-runs, its own return is already there: the item's last movement took
    it off this account for a scheduled event."""
    last = db.session.scalar(sa.select(Movement).where(Movement.item_id == item.id)
                             .order_by(Movement.id.desc()).limit(1))
    account = event_target().get("account")
    return last is not None and last.reference.startswith("event:") and account is not None \
        and (last.from_holder_type, last.from_holder_id) == ("account", account.id)


def _by_event(item_id: int, reference: str) -> bool:
    return db.session.scalar(sa.select(Movement.id).where(
        Movement.item_id == item_id, Movement.reference == reference).limit(1)) is not None


def execute_swap(event, params: dict) -> dict:
    reference = f"event:{event.id}"
    old = db.session.get(Item, params["remove_item_id"])
    new = db.session.get(Item, params["install_item_id"])
    if not _by_event(old.id, reference):
        if (old.holder_type, old.holder_id) != ("account", event.account_id):
            raise ValidationError({"remove_item_id": [
                f"item #{old.id} is no longer on this account"]})
        return_item(old, params["return_location_id"],
                    condition=params.get("return_condition"), reference=reference,
                    note="swapped out")
    if not _by_event(new.id, reference):
        if new.status != "in_stock":
            raise ValidationError({"install_item_id": [
                f"item #{new.id} is {new.status.replace('_', ' ')}, not in stock"]})
        assign(new, "account", event.account_id, install=True, reference=reference,
               note=f"swapped in for item #{old.id}")
    return {"removed": old.id, "installed": new.id}


def schedule_swap(old: Item, replacement: str, return_location_id, due, condition=None):
    """Schedule the swap of ``old`` (held by an account) for the item found by
    ``replacement`` (any identifier, or ``#id``) on ``due`` (a date or ISO time)."""
    from backhaul.sdk.accounts import get_account, schedule_event

    from .stock import lookup

    if old.holder_type != "account":
        raise ValidationError({"item_id": ["only equipment on an account can be swapped"]})
    found = [i for i in lookup(replacement) if i.status == "in_stock"]
    if len(found) != 1:
        raise ValidationError({"replacement": [
            f"no item in stock carries '{(replacement or '').strip()[:60]}'" if not found
            else "several items carry it: use #id"]})
    params = {"remove_item_id": old.id, "install_item_id": found[0].id,
              "return_location_id": return_location_id or 0}
    if condition:
        params["return_condition"] = condition
    return schedule_event(get_account(old.holder_id), "inventory.swap_equipment", due, params)


def action_types() -> list[ScheduledActionType]:
    return [ScheduledActionType("inventory.swap_equipment", "Swap equipment", SwapParams,
                                execute_swap)]
