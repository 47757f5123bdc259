"""The MDU tenant lifecycle: onboard, schedule the move-out, run it, onboard the next tenant."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.accounts.addresses import current_tenant, occupancy_history
from backhaul.core.accounts.moves import onboard_tenant, schedule_move_out
from backhaul.core.accounts.notes import add_note
from backhaul.core.accounts.scheduling import run_due_events
from backhaul.core.db import db, utcnow
from backhaul.sdk.accounts import Account, AddressOccupancy, Contact, ScheduledEvent


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _unit(building, label):
    return next(a for a in building.addresses if a.unit == label)


def test_onboard_creates_account_with_primary_financial_contact(app, building, events):
    unit = _unit(building, "101")
    account = onboard_tenant({"address_id": unit.id, "name": "Jane Doe",
                              "email": "Jane@Example.com", "phone": "415 555 2671"})
    db.session.commit()
    contact = account.primary_contact
    assert (contact.name, contact.email, contact.phone) == ("Jane Doe", "jane@example.com",
                                                             "+14155552671")
    assert contact.is_financial and account.status.key == "active"
    assert current_tenant(unit) is account and account.address is unit
    assert ("account_created", {"account_id": account.id}) in events


def test_second_active_account_at_an_occupied_address_is_refused(app, building):
    unit = _unit(building, "101")
    onboard_tenant({"address_id": unit.id, "name": "Jane", "email": "jane@example.com"})
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        onboard_tenant({"address_id": unit.id, "name": "Bob", "email": "bob@example.com"})
    assert "is occupied by account A000001 (Jane)" in err.value.messages["address_id"][0]
    db.session.rollback()
    assert _count(Account) == 1 and _count(Contact) == 1


def test_the_database_refuses_two_open_occupancies(app, building):
    unit = _unit(building, "101")
    jane = onboard_tenant({"address_id": unit.id, "name": "Jane", "email": "jane@example.com"})
    bob = onboard_tenant({"address_id": _unit(building, "102").id, "name": "Bob",
                          "email": "bob@example.com"})
    db.session.commit()
    db.session.add(AddressOccupancy(address_id=unit.id, account_id=bob.id, started_at=utcnow()))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert current_tenant(unit) is jane


def test_onboarding_bad_input(app, building):
    from backhaul.core.accounts.addresses import set_serviceability

    unit = _unit(building, "104")
    with pytest.raises(ValidationError) as err:
        onboard_tenant({"address_id": unit.id, "name": "", "email": "nope", "phone": "12"})
    assert set(err.value.messages) == {"name", "email", "phone"}
    with pytest.raises(ValidationError) as err:
        onboard_tenant({"address_id": 424242, "name": "X", "email": "x@example.com"})
    assert "no address" in err.value.messages["address_id"][0]
    set_serviceability(unit, {"serviceable": False})
    with pytest.raises(ValidationError) as err:
        onboard_tenant({"address_id": unit.id, "name": "X", "email": "x@example.com"})
    assert "not pre-qualified" in err.value.messages["address_id"][0]
    with pytest.raises(ValidationError) as err:
        onboard_tenant({"address_id": unit.id, "name": "X", "status": "bogus",
                        "email": "x@example.com"})


def test_move_out_then_next_tenant_keeps_history(app, building, events):
    unit = _unit(building, "101")
    jane = onboard_tenant({"address_id": unit.id, "name": "Jane", "email": "jane@example.com"})
    db.session.commit()
    add_note(jane, {"body": "Gate code 1234", "pinned": True})
    with pytest.raises(ValidationError) as err:
        schedule_move_out(jane, {"on": "2020-05-01"})
    assert "in the past" in err.value.messages["on"][0]
    with pytest.raises(ValidationError) as err:
        schedule_move_out(jane, {"on": (utcnow() + timedelta(days=7)).date(), "status": "active"})
    assert "needs a status that means inactive" in err.value.messages["status"][0]
    event = schedule_move_out(jane, {"on": (utcnow() + timedelta(days=7)).date(),
                                     "note": "Forwarding address: 9 Elm St"})
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        schedule_move_out(jane, {"on": (utcnow() + timedelta(days=8)).date()})
    assert "already scheduled" in err.value.messages["on"][0]
    assert run_due_events() == {}  # not due yet
    with pytest.raises(ValidationError):  # the unit is still Jane's until then
        onboard_tenant({"address_id": unit.id, "name": "Bob", "email": "bob@example.com"})
    db.session.rollback()

    db.session.execute(sa.update(ScheduledEvent).values(next_attempt_at=utcnow()))
    db.session.commit()
    events.clear()
    assert run_due_events() == {"done": 1}
    db.session.expire_all()
    assert jane.status.key == "moved_out" and current_tenant(unit) is None
    assert events == [("account_status_changed", {"account_id": jane.id, "old_status": "active",
                                                  "new_status": "moved_out",
                                                  "reason": "move_out"})]
    assert db.session.get(ScheduledEvent, event.id).result["address_id"] == unit.id

    bob = onboard_tenant({"address_id": unit.id, "name": "Bob", "phone": "+1 415 555 0199"})
    db.session.commit()
    assert current_tenant(unit) is bob
    history = occupancy_history(unit)
    assert [o.account.name for o in history] == ["Bob", "Jane"]
    assert history[1].ended_reason == "move_out" and history[0].ended_at is None
    assert jane.address is unit and len(jane.contacts) == 1  # Jane's record is untouched
    from backhaul.core.accounts.notes import notes_for

    assert {n.body for n in notes_for(jane)} == {"Gate code 1234",
                                                 "Forwarding address: 9 Elm St"}
    with pytest.raises(ValidationError) as err:  # Jane no longer lives anywhere
        schedule_move_out(jane, {"on": utcnow().date()})
    assert "does not live at any address" in err.value.messages["on"][0]
