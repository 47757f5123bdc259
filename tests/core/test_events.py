"""Domain events: delivered after commit only, each subscriber isolated, its writes kept."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from backhaul.core.db import after_commit, db
from backhaul.core.models import JobIntent
from backhaul.plugins.example.models import Greeting
from backhaul.sdk import Money, emit, enqueue


@pytest.fixture
def received():
    return []


@pytest.fixture
def eapp(make_app, temp_plugin, received):
    """An app with two subscribers around the example plugin: one records, one writes."""
    def record(account_id, old_status, new_status, reason):
        received.append((account_id, old_status, new_status, reason))

    def write(account_id, new_status):
        db.session.add(Greeting(name=f"writer {account_id}", message=new_status))

    recorder = temp_plugin("recorder", account_status_changed=record)
    writer = temp_plugin("writer", account_status_changed=write)
    app = make_app(plugins=["example"], extra_plugins=[recorder, writer])
    with app.app_context():
        yield app


def status_changed(account_id=7, new="suspended"):
    emit("account_status_changed", account_id=account_id, old_status="active",
         new_status=new, reason="manual")


def names() -> list[str]:
    db.session.commit()
    return sorted(db.session.scalars(sa.select(Greeting.name)))


def test_delivered_only_after_commit(eapp, received):
    status_changed()
    assert received == []
    db.session.flush()
    assert received == []
    db.session.commit()
    assert received == [(7, "active", "suspended", "manual")]
    db.session.commit()
    assert len(received) == 1, "delivered once"


def test_never_delivered_after_rollback(eapp, received):
    status_changed()
    db.session.rollback()
    db.session.commit()
    assert received == []


def test_rolled_back_savepoint_discards_only_its_events(eapp, received):
    status_changed(account_id=1)
    savepoint = db.session.begin_nested()
    status_changed(account_id=2)
    savepoint.rollback()
    with db.session.begin_nested():
        status_changed(account_id=3)
    db.session.commit()
    assert [r[0] for r in received] == [1, 3]


def test_released_savepoint_is_discarded_with_its_transaction(eapp, received):
    with db.session.begin_nested():
        status_changed(account_id=4)
    db.session.rollback()
    db.session.commit()
    assert received == []


def test_a_closed_session_forgets_its_events(eapp, received):
    status_changed()
    db.session.close()
    db.session.commit()
    assert received == []


def test_subscriber_writes_are_committed(eapp):
    status_changed(account_id=9)
    db.session.commit()
    db.session.rollback()  # nothing left to roll back: the subscriber's write was committed
    assert "writer 9" in names()


def test_a_failing_subscriber_is_logged_by_name_and_the_others_run(make_app, temp_plugin,
                                                                    received, caplog):
    def broken(account_id):
        db.session.add(Greeting(name="from the broken one", message="never kept"))
        db.session.flush()
        raise RuntimeError("subscriber bug")

    def record(account_id):
        received.append(account_id)

    def write(account_id):
        db.session.add(Greeting(name=f"after {account_id}", message="kept"))

    # load order is the list order: the broken one sits between the two others
    plugins = [temp_plugin("a_record", account_created=record),
               temp_plugin("b_broken", account_created=broken),
               temp_plugin("c_write", account_created=write)]
    app = make_app(plugins=[], extra_plugins=plugins)
    with app.app_context(), caplog.at_level(logging.ERROR):
        emit("account_created", account_id=5)
        db.session.commit()
        assert names() == ["after 5"], "the broken subscriber's write was rolled back"
    assert "plugin 'b_broken' raised in hook account_created" in caplog.text
    assert "subscriber bug" in caplog.text
    assert received == [5]


def test_subscriber_that_enqueues_a_job(make_app, temp_plugin):
    """A slow reaction is a job: enqueued by the subscriber, run after its commit."""
    def subscriber(payment_id, account_id, amount):
        enqueue("backhaul.plugins.example.jobs:deliver_greeting", payment_id)

    app = make_app(plugins=["example"], extra_plugins=[temp_plugin("payer",
                                                                   payment_received=subscriber)])
    with app.app_context():
        emit("payment_received", payment_id=11, account_id=3, amount=Money(500, "USD"))
        db.session.commit()
        jobs = [j for j in db.session.scalars(sa.select(JobIntent)) if j.args == [11]]
        assert [(j.func, j.status) for j in jobs] == [
            ("backhaul.plugins.example.jobs:deliver_greeting", "done")]


def test_unknown_event_and_wrong_payload_fail_at_emit(eapp):
    with pytest.raises(ValueError, match="unknown event 'acount_created'"):
        emit("acount_created", account_id=1)
    with pytest.raises(TypeError, match=r"missing \['reason'\], unexpected \['why'\]"):
        emit("account_status_changed", account_id=1, old_status="a", new_status="b", why="x")


def test_after_commit_callback_failure_does_not_undo_the_commit(eapp, caplog):
    ran = []
    db.session.add(Greeting(name="committed", message="x"))
    after_commit(lambda: 1 / 0)
    after_commit(lambda: ran.append("second"))
    with caplog.at_level(logging.ERROR, logger="backhaul.db"):
        db.session.commit()  # does not raise: the data is committed
    assert ran == ["second"]
    assert "after-commit callback" in caplog.text and "ZeroDivisionError" in caplog.text
    assert "committed" in names()
