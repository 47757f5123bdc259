"""Move-out and move-in: the MDU tenant lifecycle in two calls.

* :func:`schedule_move_out` records a ``move_out`` scheduled event for a date. When it runs
  (:func:`execute_move_out`) the account's status changes to an inactive status with reason
  ``"move_out"`` — plugins end services, stop billing and so on when they receive that
  ``account_status_changed`` event — and its occupancy is closed, freeing the address.
* :func:`onboard_tenant` takes the few fields of a move-in (name, e-mail, phone, address) and
  creates the account with its primary (and financial) contact at the vacant address.

The previous tenant's account, notes, calls and occupancy row are never touched by either.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import db

from .accounts import create_account, ensure_vacant, move_out_now
from .contacts import add_contact
from .models import Account, Address, AddressOccupancy, ScheduledEvent
from .scheduling import schedule_event
from .schemas import MoveOutSchema, OnboardSchema
from .statuses import get_status, move_out_status, set_status


def check_move_out_status(key: str) -> None:
    status = get_status(key)
    if status.meaning != "inactive":
        raise ValidationError({"status": [f"Status '{key}' means {status.meaning}; a move-out "
                                          "needs a status that means inactive (such as "
                                          "moved_out)."]})


def pending_move_out(account: Account) -> ScheduledEvent | None:
    return db.session.scalar(sa.select(ScheduledEvent).where(
        ScheduledEvent.account_id == account.id, ScheduledEvent.action == "move_out",
        ScheduledEvent.status.in_(("pending", "running"))))


def open_occupancy(account: Account) -> AddressOccupancy | None:
    return db.session.scalar(sa.select(AddressOccupancy).where(
        AddressOccupancy.account_id == account.id, AddressOccupancy.ended_at.is_(None)))


def schedule_move_out(account: Account, data: dict) -> ScheduledEvent:
    """Schedule ``account``'s move-out (``{"on": date, "status": key?, "note": text?}``)."""
    loaded = MoveOutSchema().load(data)
    if open_occupancy(account) is None:
        raise ValidationError({"on": [f"Account {account.number} does not live at any "
                                      "address: change its status instead."]})
    existing = pending_move_out(account)
    if existing is not None:
        raise ValidationError({"on": [f"A move-out is already scheduled for "
                                      f"{existing.due_at:%Y-%m-%d %H:%M} UTC (event "
                                      f"{existing.id}): reschedule or cancel it."]})
    params = {"note": loaded["note"]}
    if loaded["status"]:
        params["status"] = loaded["status"]
    try:
        return schedule_event(account, "move_out", loaded["on"], params,
                              address=open_occupancy(account).address)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise ValidationError({**{k: v for k, v in messages.items() if k != "params"},
                               **messages.get("params", {})}) from None


def execute_move_out(account: Account, status_key: str | None = None, note: str = "") -> dict:
    """Do the move-out now: inactive status (reason ``move_out``), address freed. Idempotent."""
    status = get_status(status_key) if status_key else move_out_status()
    if status_key:
        check_move_out_status(status_key)
    occupancy = move_out_now(account, reason="move_out")
    changed = set_status(account, status.key, reason="move_out")
    if note:
        from .notes import add_note

        add_note(account, {"body": note, "category": "general"})
    return {"status": status.key, "status_changed": changed,
            "address_id": occupancy.address_id if occupancy else None}


def onboard_tenant(data: dict) -> Account:
    """Create the next tenant at a vacant, serviceable address: account + primary contact."""
    loaded = OnboardSchema().load(data)
    address = db.session.get(Address, loaded["address_id"])
    if address is None:
        raise ValidationError({"address_id": [f"There is no address {loaded['address_id']}."]})
    if not address.serviceable:
        raise ValidationError({"address_id": [f"{address.one_line} is not pre-qualified as "
                                              "serviceable: update its serviceability first."]})
    ensure_vacant(address)
    account = create_account(name=loaded["name"], account_type=loaded["account_type"],
                             status=loaded["status"], address_id=address.id)
    add_contact(account, {"name": loaded["name"], "email": loaded["email"],
                          "phone": loaded["phone"], "is_primary": True, "is_financial": True})
    return account
