"""Scheduled events: validation at scheduling time, exactly-once execution, retries, staff edits."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.accounts.contacts import add_contact
from backhaul.core.accounts.scheduling import (
    cancel_event,
    claim,
    reschedule_event,
    retry_event,
    run_due_events,
    schedule_event,
)
from backhaul.core.db import db, utcnow
from backhaul.sdk import ScheduledActionType
from backhaul.sdk.accounts import ScheduledEvent, StatusChange, create_account


@pytest.fixture
def account(app):
    account = create_account(name="Jane Doe")
    db.session.commit()
    return account


def make_due(event):
    db.session.execute(sa.update(ScheduledEvent).where(ScheduledEvent.id == event.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_scheduling_validates_action_time_and_params(account):
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as err:
        schedule_event(account, "teleport", tomorrow)
    assert "Unknown action 'teleport'" in err.value.messages["action"][0]
    with pytest.raises(ValidationError) as err:
        schedule_event(account, "change_status", "2020-01-01", {"status": "inactive"})
    assert "in the past" in err.value.messages["due_at"][0]
    with pytest.raises(ValidationError) as err:
        schedule_event(account, "change_status", "next tuesday", {"status": "inactive"})
    assert "is not a date" in err.value.messages["due_at"][0]
    with pytest.raises(ValidationError) as err:
        schedule_event(account, "change_status", tomorrow, {"status": "bogus"})
    assert "Unknown status 'bogus'" in err.value.messages["params"]["status"][0]
    with pytest.raises(ValidationError) as err:
        schedule_event(account, "switch_primary_contact", tomorrow, {"contact_id": 999})
    assert "not a contact of account" in err.value.messages["params"]["contact_id"][0]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ScheduledEvent.id))) == 0


def test_today_means_now_and_naive_times_are_local(account):
    event = schedule_event(account, "change_status", utcnow().date().isoformat(),
                           {"status": "inactive"})
    assert abs((event.due_at - utcnow()).total_seconds()) < 5


def test_due_event_runs_once_and_records_result(account, events):
    event = schedule_event(account, "change_status", utcnow(), {"status": "suspended"})
    future = schedule_event(account, "change_status", utcnow() + timedelta(days=3),
                            {"status": "inactive"})
    db.session.commit()
    events.clear()
    assert run_due_events() == {"done": 1}
    assert run_due_events() == {}
    db.session.refresh(event)
    assert (event.status, event.attempts, event.result) == (
        "done", 1, {"status": "suspended", "changed": True})
    assert account.status.key == "suspended" and future.status == "pending"
    assert events == [("account_status_changed", {"account_id": account.id,
                                                  "old_status": "active",
                                                  "new_status": "suspended",
                                                  "reason": "scheduled"})]


def test_contact_switches(account):
    tenant = add_contact(account, {"name": "Tenant", "email": "t@example.com"})
    owner = add_contact(account, {"name": "Owner", "email": "o@example.com",
                                  "is_financial": True})
    db.session.commit()
    schedule_event(account, "switch_primary_contact", utcnow(), {"contact_id": owner.id})
    schedule_event(account, "switch_financial_contact", utcnow(), {"contact_id": tenant.id})
    db.session.commit()
    assert run_due_events() == {"done": 2}
    db.session.expire_all()
    assert owner.is_primary and not tenant.is_primary
    assert tenant.is_financial and not owner.is_financial  # exclusive by default


def _flaky_plugin(temp_plugin, calls):
    from backhaul.core.accounts.actions import ChangeStatusParams

    def execute(event, params):
        calls.append(event.attempts)
        raise RuntimeError("router unreachable")

    return temp_plugin("flaky", scheduled_action_types=lambda: [
        ScheduledActionType("flaky", "Flaky", ChangeStatusParams, execute)])


def test_failures_are_retried_then_failed_with_a_visible_error(make_app, temp_plugin):
    calls = []
    app = make_app(plugins=[], extra_plugins=[_flaky_plugin(temp_plugin, calls)],
                   PLUGIN_SETTINGS={"accounts": {"event_max_attempts": 2}})
    with app.app_context():
        account = create_account(name="X")
        event = schedule_event(account, "flaky", utcnow(), {"status": "inactive"})
        db.session.commit()
        assert run_due_events() == {"retry": 1}
        db.session.refresh(event)
        assert (event.status, event.attempts) == ("pending", 1)
        assert "RuntimeError: router unreachable" in event.last_error
        make_due(event)
        assert run_due_events() == {"failed": 1}
        db.session.refresh(event)
        assert (event.status, event.attempts, calls) == ("failed", 2, [1, 2])
        assert db.session.scalar(sa.select(sa.func.count(StatusChange.id))) == 1  # creation only
        retry_event(event)
        db.session.commit()
        assert event.status == "pending" and event.attempts == 0


def test_params_invalid_at_run_time_fail_at_once(account):
    tenant = add_contact(account, {"name": "Tenant", "email": "t@example.com"})
    other = add_contact(account, {"name": "Other", "email": "x@example.com"})
    event = schedule_event(account, "switch_primary_contact", utcnow(), {"contact_id": other.id})
    db.session.commit()
    db.session.delete(other)
    db.session.commit()
    assert run_due_events() == {"failed": 1}
    db.session.refresh(event)
    assert event.status == "failed" and "invalid parameters" in event.last_error
    assert tenant.is_primary


def test_stale_running_event_is_taken_over(account):
    event = schedule_event(account, "change_status", utcnow(), {"status": "inactive"})
    db.session.commit()
    assert claim(event.id, "runner-that-died")
    assert run_due_events() == {}  # its lease still holds
    db.session.execute(sa.update(ScheduledEvent).where(ScheduledEvent.id == event.id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert run_due_events() == {"done": 1}
    db.session.refresh(event)
    assert (event.status, event.attempts) == ("done", 2)
    assert account.status.key == "inactive"


def test_cancel_and_reschedule(account):
    later = utcnow() + timedelta(days=2)
    event = schedule_event(account, "change_status", later, {"status": "inactive"})
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        reschedule_event(event, "2001-01-01")
    assert "in the past" in err.value.messages["due_at"][0]
    reschedule_event(event, utcnow() + timedelta(days=5))
    assert event.due_at > later
    cancel_event(event)
    db.session.commit()
    assert event.status == "cancelled" and event.cancelled_by
    with pytest.raises(ValidationError) as err:
        cancel_event(event)
    assert "only a pending or failed event" in err.value.messages["event"][0]
    done = schedule_event(account, "change_status", utcnow(), {"status": "inactive"})
    db.session.commit()
    run_due_events()
    with pytest.raises(ValidationError):
        reschedule_event(done, utcnow() + timedelta(days=1))
