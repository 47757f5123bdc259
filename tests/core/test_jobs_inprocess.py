import sqlalchemy as sa

from backhaul.core.db import db
from backhaul.core.jobs import enqueue
from backhaul.core.models import JobIntent

CALLS: list = []


def record(value):
    CALLS.append(value)


def explode():
    raise RuntimeError("boom")


def test_job_runs_in_process_after_commit(app):
    CALLS.clear()
    enqueue(record, "x")
    assert CALLS == []  # not before commit
    db.session.commit()
    assert CALLS == ["x"]
    assert db.session.scalar(sa.select(JobIntent.status)) == "done"


def test_rolled_back_job_never_runs(app):
    CALLS.clear()
    enqueue(record, "y")
    db.session.rollback()
    db.session.commit()
    assert CALLS == []
    assert db.session.scalar(sa.select(sa.func.count(JobIntent.id))) == 0


def test_failing_job_is_retried_then_failed(app, cli):
    enqueue(explode, max_attempts=2)
    db.session.commit()
    intent = db.session.scalar(sa.select(JobIntent))
    assert intent.status == "pending" and intent.attempts == 1
    from backhaul.core.jobs import sweep

    sweep()
    db.session.expire_all()
    intent = db.session.scalar(sa.select(JobIntent))
    assert intent.status == "failed" and "boom" in intent.last_error
    result = cli("jobs", "failed", "--json")
    assert '"attempts": 2' in result.output
