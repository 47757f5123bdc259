"""Jobs without Redis: the same outbox, run in-process right after the commit."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backhaul.core import scheduler
from backhaul.core.actor import current_actor
from backhaul.core.db import db
from backhaul.core.jobs import (
    JobBackend,
    enqueue,
    enqueue_periodic,
    func_path,
    retry,
    run_intent,
    sweep,
)
from backhaul.core.models import JobIntent
from backhaul.sdk import PeriodicJob
from backhaul.sdk.testing import run_cli

CALLS: list = []


def record(value):
    CALLS.append((value, str(current_actor())))


def explode():
    raise RuntimeError("boom")


def tick():
    CALLS.append(("tick", str(current_actor())))


def enqueue_another(value):
    enqueue(record, value)


@pytest.fixture
def japp(make_app):
    CALLS.clear()
    app = make_app(plugins=["example"])
    with app.app_context():
        yield app


def status(intent_id: int) -> str:
    db.session.commit()
    return db.session.get(JobIntent, intent_id).status


def test_job_runs_in_process_after_commit(japp):
    job = enqueue(record, "x")
    assert CALLS == []  # not before commit
    db.session.commit()
    assert [c[0] for c in CALLS] == ["x"]
    assert CALLS[0][1].startswith("job:"), "jobs act as themselves (for the audit trail)"
    assert status(job.id) == "done"


def test_rolled_back_job_never_runs(japp):
    enqueue(record, "y")
    db.session.rollback()
    db.session.commit()
    assert CALLS == []
    assert db.session.scalar(sa.select(sa.func.count(JobIntent.id))) == 0


def test_a_job_may_enqueue_jobs(japp):
    enqueue(enqueue_another, "chained")
    db.session.commit()
    assert [c[0] for c in CALLS] == ["chained"]
    assert sorted(db.session.scalars(sa.select(JobIntent.status))) == ["done", "done"]


def test_keyed_job_is_created_once(japp):
    first = enqueue(record, "k", key="once:1")
    second = enqueue(record, "k", key="once:1")
    assert first.id == second.id
    db.session.commit()
    assert enqueue(record, "k", key="once:1").id == first.id
    db.session.commit()
    assert [c[0] for c in CALLS] == ["k"]


def test_failing_job_is_retried_then_failed_then_retried(japp):
    job = enqueue(explode, max_attempts=2)
    db.session.commit()
    row = db.session.get(JobIntent, job.id)
    assert row.status == "pending" and row.attempts == 1 and "boom" in row.last_error
    sweep()
    assert status(job.id) == "failed"
    result = run_cli(japp, "jobs", "failed", "--json")
    assert '"attempts": 2' in result.output and "RuntimeError: boom" in result.output
    assert retry() == 1  # in-process: runs (and fails) at once
    row = db.session.get(JobIntent, job.id)
    assert row.status == "pending" and row.attempts == 1


def test_delayed_job_waits_for_the_sweeper(japp):
    job = enqueue(record, "later", delay=timedelta(minutes=5))
    db.session.commit()
    assert status(job.id) == "pending" and CALLS == []
    assert sweep() == 0
    db.session.execute(sa.update(JobIntent).values(next_attempt_at=JobIntent.created_at))
    db.session.commit()
    assert sweep() == 1 and status(job.id) == "done"


def test_run_intent_of_an_unknown_or_finished_intent_is_skipped(japp):
    assert run_intent(12345) == "skipped"
    job = enqueue(record, "z")
    db.session.commit()
    assert run_intent(job.id) == "skipped"


def test_periodic_slot_is_enqueued_once(japp):
    assert enqueue_periodic("t.every_hour", record, timedelta(hours=1)) is True
    assert enqueue_periodic("t.every_hour", record, timedelta(hours=1)) is False
    keys = db.session.scalars(sa.select(JobIntent.key)).all()
    assert len([k for k in keys if k.startswith("periodic:t.every_hour:")]) == 1


def test_scheduler_tick_runs_declared_periodic_jobs(make_app, temp_plugin):
    CALLS.clear()
    ticker = temp_plugin("ticker", periodic_jobs=lambda: [
        PeriodicJob("ticker.say", "tests_jobs_inprocess_does_not_exist:nope",
                    every=timedelta(hours=1)),
        PeriodicJob("ticker.ok", tick, every=timedelta(hours=1))])
    app = make_app(plugins=[], extra_plugins=[ticker])
    scheduler.tick(app)
    with app.app_context():
        rows = {k.split(":")[1]: s for k, s in db.session.execute(
            sa.select(JobIntent.key, JobIntent.status)) if k and k.startswith("periodic:ticker")}
    # the broken declaration fails its own job, the other one runs
    assert rows["ticker.ok"] == "done" and rows["ticker.say"] == "pending"
    assert [c[0] for c in CALLS] == ["tick"]


@pytest.mark.parametrize("func", [lambda: None, JobBackend.push])
def test_job_functions_must_be_importable_by_name(func):
    with pytest.raises(ValueError, match="module-level function"):
        func_path(func)
    with pytest.raises(ValueError, match="package.module:function"):
        func_path("no_colon_here")


def test_jobs_of_one_transaction_are_dispatched_together_and_a_rolled_back_savepoint_is_not(app):
    CALLS.clear()
    enqueue(record, "outer-1")
    with db.session.begin_nested() as savepoint:
        enqueue(record, "inside-rolled-back")
        savepoint.rollback()
    with db.session.begin_nested():
        enqueue(record, "inside-released")
    enqueue(record, "outer-2")
    assert CALLS == []
    db.session.commit()
    assert sorted(value for value, _actor in CALLS) == ["inside-released", "outer-1", "outer-2"]
