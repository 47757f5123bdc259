"""Units of a building, as an office manager handles them: many at once, their access notes,
and the next tenant booked while the current one's move-out is still pending.

* :func:`set_serviceability_many` pre-qualifies (or not) a set of a building's units in one go.
* Access notes (key box, gate code, superintendent...) belong to the unit
  (``core_unit_access``), not to a tenant, so they stay when tenants change.
* :func:`book_next_tenant` creates the next tenant's account now, as a prospect with its
  contact, and schedules a ``move_in`` event for the move-in date; when it runs (after the
  previous tenant's move-out, which frees the unit) the account moves in and becomes active.

None of these functions commits: the caller owns the transaction.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate

from backhaul.core.db import db

from .accounts import create_account, move_in
from .addresses import current_occupancy
from .contacts import add_contact
from .fields import BaseSchema
from .models import Account, Address, Building, ScheduledEvent, UnitAccess
from .schemas import OnboardSchema, ServiceabilitySchema
from .statuses import default_status, first_with_meaning, set_status


# ------------------------------------------------------------------------------ serviceability
def set_serviceability_many(building: Building, address_ids: list[int], data: dict
                            ) -> list[Address]:
    """Set the same serviceability on several of ``building``'s units."""
    loaded = ServiceabilitySchema().load(data)
    if not address_ids:
        raise ValidationError({"address_ids": ["Choose at least one unit."]})
    units = list(db.session.scalars(sa.select(Address).where(
        Address.id.in_(address_ids), Address.building_id == building.id)))
    missing = sorted(set(address_ids) - {u.id for u in units})
    if missing:
        raise ValidationError({"address_ids": [
            f"Not units of {building.name}: {', '.join(map(str, missing))}."]})
    for unit in units:
        for name, value in loaded.items():
            setattr(unit, name, value)
    db.session.flush()
    return sorted(units, key=lambda u: u.unit)


# ------------------------------------------------------------------------------ access notes
def access_notes(address: Address) -> str:
    row = db.session.get(UnitAccess, address.id)
    return row.notes if row else ""


def set_access_notes(address: Address, notes: str) -> str:
    notes = (notes or "").strip()
    if len(notes) > 4000:
        raise ValidationError({"notes": ["At most 4000 characters."]})
    row = db.session.get(UnitAccess, address.id)
    if row is None:
        row = UnitAccess(address_id=address.id, notes=notes)
        db.session.add(row)
    else:
        row.notes = notes
    db.session.flush()
    return notes


# ------------------------------------------------------------------------------ next tenant
class BookTenantSchema(OnboardSchema):
    #: the move-in date (the unit's current tenant must be moving out by then)
    on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


def pending_move_out_of(address: Address) -> ScheduledEvent | None:
    """The pending move-out of the unit's current tenant, if any."""
    occupancy = current_occupancy(address)
    if occupancy is None:
        return None
    return db.session.scalar(sa.select(ScheduledEvent).where(
        ScheduledEvent.account_id == occupancy.account_id,
        ScheduledEvent.action == "move_out",
        ScheduledEvent.status.in_(("pending", "running", "failed"))).limit(1))


def pending_move_in_to(address: Address) -> ScheduledEvent | None:
    return db.session.scalar(sa.select(ScheduledEvent).where(
        ScheduledEvent.action == "move_in", ScheduledEvent.address_id == address.id,
        ScheduledEvent.status.in_(("pending", "running", "failed"))).limit(1))


def unit_moves(address_ids: list[int]) -> tuple[dict[int, datetime], dict[int, Account]]:
    """``({address_id: move-out due}, {address_id: booked next tenant})`` for a list page."""
    from .models import AddressOccupancy

    if not address_ids:
        return {}, {}
    leaving = dict(db.session.execute(
        sa.select(AddressOccupancy.address_id, ScheduledEvent.due_at)
        .join(ScheduledEvent, ScheduledEvent.account_id == AddressOccupancy.account_id)
        .where(AddressOccupancy.address_id.in_(address_ids),
               AddressOccupancy.ended_at.is_(None), ScheduledEvent.action == "move_out",
               ScheduledEvent.status.in_(("pending", "running", "failed")))).all())
    booked = {event.address_id: event.account for event in db.session.scalars(
        sa.select(ScheduledEvent).where(
            ScheduledEvent.action == "move_in", ScheduledEvent.address_id.in_(address_ids),
            ScheduledEvent.status.in_(("pending", "running", "failed"))))}
    return leaving, booked


def book_next_tenant(data: dict) -> tuple[Account, ScheduledEvent]:
    """The next tenant of a unit whose tenant is moving out: an account now (a prospect, with
    its primary and financial contact) and a ``move_in`` event on the move-in date."""
    from .scheduling import schedule_event

    loaded = BookTenantSchema().load(data)
    address = db.session.get(Address, loaded["address_id"])
    if address is None:
        raise ValidationError({"address_id": [f"There is no address {loaded['address_id']}."]})
    if not address.serviceable:
        raise ValidationError({"address_id": [f"{address.one_line} is not pre-qualified as "
                                              "serviceable: update its serviceability first."]})
    booked = pending_move_in_to(address)
    if booked is not None:
        raise ValidationError({"address_id": [
            f"Account {booked.account.number} ({booked.account.name}) is already booked to "
            f"move in on {booked.due_at:%Y-%m-%d}."]})
    if current_occupancy(address) is not None:
        leaving = pending_move_out_of(address)
        if leaving is None:
            tenant = current_occupancy(address).account
            raise ValidationError({"address_id": [
                f"{address.one_line} is occupied by account {tenant.number} ({tenant.name}) "
                "with no move-out scheduled: schedule the move-out first."]})
        if loaded["on"] < leaving.due_at.date():
            raise ValidationError({"on": [
                f"The current tenant moves out on {leaving.due_at:%Y-%m-%d}: the move-in "
                "must be on or after that day."]})
    prospect = first_with_meaning("prospect")
    account = create_account(name=loaded["name"], account_type=loaded["account_type"],
                             status=prospect.key if prospect else None)
    add_contact(account, {"name": loaded["name"], "email": loaded["email"],
                          "phone": loaded["phone"], "is_primary": True, "is_financial": True})
    event = schedule_event(account, "move_in", loaded["on"],
                           {"address_id": address.id, "status": loaded["status"],
                            "note": loaded["note"]}, address=address)
    return account, event


class MoveInParams(BaseSchema):
    address_id = fields.Integer(required=True)
    status = fields.String(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


def execute_move_in(event, params: dict) -> dict:
    """The ``move_in`` event: the account moves into the (now vacant) unit, and is active."""
    account = event.account
    address = db.session.get(Address, params["address_id"])
    if address is None:
        raise ValidationError({"address_id": ["The unit no longer exists."]})
    if account.address_id != address.id or current_occupancy(address) is None:
        move_in(account, address)
    status = params.get("status") or default_status().key
    changed = set_status(account, status, reason="move_in")
    if params.get("note"):
        from .notes import add_note

        add_note(account, {"body": params["note"], "category": "general"})
    return {"address_id": address.id, "status": status, "status_changed": changed}


def as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


__all__ = ["BookTenantSchema", "MoveInParams", "access_notes", "book_next_tenant",
           "execute_move_in", "pending_move_in_to", "pending_move_out_of", "unit_moves",
           "set_access_notes", "set_serviceability_many"]
