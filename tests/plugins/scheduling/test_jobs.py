"""Field jobs: checklists, technicians, booking with conflicts refused, completion only with
the required tasks done, the tenant told (booked, moved, the day before), and the ticket kept
informed. Expected times are worked out by hand from a Monday in the future."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db


def monday(hour: int, minute: int = 0, weeks: int = 1) -> datetime:
    today = datetime.now(UTC).date()
    day = today + timedelta(days=7 * weeks - today.weekday())
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def messages():
    from backhaul.plugins.notifications.models import Message

    db.session.rollback()
    return db.session.scalars(sa.select(Message).order_by(Message.id)).all()


def _job(ticket, install):
    from backhaul.plugins.scheduling import jobs

    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    db.session.commit()
    return job


@pytest.mark.parametrize("data, key", [
    ({"name": ""}, "name"), ({"name": "Installation"}, "name"),
    ({"name": "X", "durationMinutes": 0}, "durationMinutes"),
    ({"name": "X", "durationMinutes": "lots"}, "durationMinutes"),
    ({"name": "X", "tasks": [{"name": ""}]}, "tasks"),
    ({"name": "X", "tasks": "\n".join(f"t{n}" for n in range(51))}, "tasks"),
])
def test_job_types_refuse_bad_input(app, field, data, key):
    from backhaul.plugins.scheduling import jobs

    with pytest.raises(ValidationError) as exc:
        jobs.save_job_type(data)
    assert key in exc.value.messages


@pytest.mark.parametrize("data, key", [
    ({"name": "Alex Fielder"}, "name"), ({"name": "Y", "workDays": "189"}, "workDays"),
    ({"name": "Y", "workStart": "25:00"}, "workStart"),
    ({"name": "Y", "workStart": "10:00", "workEnd": "09:00"}, "workEnd"),
])
def test_technicians_refuse_bad_input(app, field, data, key):
    from backhaul.plugins.scheduling import jobs

    with pytest.raises(ValidationError) as exc:
        jobs.save_technician(data)
    assert key in exc.value.messages


def test_a_ticket_becomes_a_job_with_its_checklist(app, field, ticket):
    install, _, _ = field
    job = _job(ticket, install)
    assert job.account_id == ticket.account_id and job.ticket_id == ticket.id
    assert [(t.name, t.required) for t in job.tasks] == [
        ("Mount the ONT", True), ("Test the speed", True), ("Tidy up", False)]
    assert ticket.messages[-1].body_text == f"Job #{job.id} (Installation) created for this " \
                                            "ticket."
    from backhaul.plugins.scheduling import jobs

    with pytest.raises(ValidationError) as exc:
        jobs.create_job({"typeId": install.id, "ticketId": 99999})
    assert "ticketId" in exc.value.messages
    with pytest.raises(ValidationError) as exc:
        jobs.create_job({"typeId": install.id})
    assert "accountId" in exc.value.messages


def test_booking_refuses_double_booking_off_duty_and_missing_skills(app, field, ticket):
    from backhaul.plugins.scheduling import jobs

    install, alex, sam = field
    first, second = _job(ticket, install), _job(ticket, install)
    jobs.book(first, alex.id, monday(9))             # 09:00-10:30
    db.session.commit()
    cases = [(alex.id, monday(10), "is booked for job"),       # overlaps 10:00-10:30
             (alex.id, monday(16), "works 08:00-17:00"),       # would end 17:30
             (alex.id, monday(7, 30), "works 08:00-17:00"),
             (alex.id, monday(9) + timedelta(days=5), "does not work on Saturdays"),
             (sam.id, monday(9) + timedelta(days=5), "lacks the skill 'fiber'"),
             (alex.id, monday(9, weeks=-1), "in the future")]
    for technician, when, message in cases:
        with pytest.raises(ValidationError) as exc:
            jobs.book(second, technician, when)
        assert message in str(exc.value.messages), (when, exc.value.messages)
        db.session.rollback()
    jobs.book(second, alex.id, monday(10, 30))       # back to back is fine
    db.session.commit()
    assert second.ends_at == monday(12)


def test_tenant_is_told_when_booked_and_moved_and_the_day_before(app, field, ticket,
                                                                 email_channel, relay):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    job = _job(ticket, install)
    jobs.book(job, alex.id, monday(9))
    db.session.commit()
    jobs.book(job, alex.id, monday(13))
    db.session.commit()
    assert [m.event_key for m in messages()] == ["scheduling.job_booked",
                                                 "scheduling.job_rescheduled"]
    received = relay.wait_for(2)
    assert "Alex Fielder will come for your Installation" in received[0].message.get_content()
    assert "13:00" in received[1].message["Subject"]
    assert ticket.messages[-1].body_text.startswith(f"Job #{job.id} moved to")

    job.starts_at, job.ends_at = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0), None
    db.session.commit()
    assert jobs.send_reminders() == 1
    jobs.send_reminders()   # the scheduler may run it again: one reminder only
    db.session.commit()
    assert [m.event_key for m in messages()][-1] == "scheduling.job_reminder"
    assert len(messages()) == 3


def test_a_job_is_completed_only_with_its_required_tasks_done(app, field, ticket):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    job = _job(ticket, install)
    with pytest.raises(ValidationError, match="only a booked job"):
        jobs.complete(job)
    jobs.book(job, alex.id, monday(9))
    mount, test, tidy = job.tasks
    jobs.set_task(job, mount.id, True)
    with pytest.raises(ValidationError) as exc:
        jobs.complete(job)
    assert exc.value.messages == {"tasks": ["required tasks are open: Test the speed"]}
    jobs.set_task(job, test.id, True)
    jobs.complete(job)   # "Tidy up" is optional
    db.session.commit()
    assert job.status == "done" and ticket.messages[-1].body_text == f"Job #{job.id} completed."
    with pytest.raises(ValidationError):
        jobs.set_task(job, tidy.id, True)
    with pytest.raises(ValidationError):
        jobs.cancel(job)


def test_migrations_and_boundaries(app):
    import backhaul.plugins.scheduling as scheduling
    from backhaul.sdk.testing.boundaries import plugin_import_offences
    from backhaul.sdk.testing.migrations import migration_problems

    assert migration_problems(app, "scheduling") == []
    assert plugin_import_offences(scheduling) == []
