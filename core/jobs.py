"""Jobs: an outbox in the database, RQ over Redis as the transport, in-process without Redis.

* :func:`enqueue` writes a :class:`JobIntent` in the caller's transaction, so no intent is
  lost: if the transaction commits the job exists, if it rolls back it never did.
* After commit the intent is pushed to RQ (or, with no Redis configured, run right there).
  If Redis is down the intent stays ``pending`` and :func:`sweep` pushes it later.
* :func:`run_intent` claims the row with a conditional UPDATE, so a job delivered twice runs
  once; its effect and the ``done`` mark commit together, so a worker killed mid-way leaves no
  effect and the job is run again after its timeout.
* Failures are retried with exponential backoff up to ``max_attempts``, then ``failed``
  (``backhaul jobs failed`` / ``backhaul jobs retry``).
"""
from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .db import after_commit, db, utcnow
from .models import JobIntent

log = logging.getLogger("backhaul.jobs")

RQ_ENTRY = "backhaul.core.jobs.rq_entry"
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600


def func_path(func: Callable | str) -> str:
    if isinstance(func, str):
        return func
    module, name = func.__module__, func.__qualname__
    if "<" in name or "." in name:
        raise ValueError(f"job function {name!r} must be a module-level function")
    return f"{module}:{name}"


def resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def enqueue(func: Callable | str, *args: Any, key: str | None = None, queue: str = "default",
            max_attempts: int = 5, delay: timedelta | None = None,
            timeout: timedelta = timedelta(minutes=10), **kwargs: Any) -> JobIntent:
    """Record a job in the current transaction; it is dispatched after commit.

    Arguments must be JSON-serialisable (ids, not objects). With ``key`` an intent is created
    once: a second call with the same key returns the first intent.
    """
    if key is not None:
        existing = db.session.scalar(sa.select(JobIntent).where(JobIntent.key == key))
        if existing is not None:
            return existing
    intent = JobIntent(func=func_path(func), args=list(args), kwargs=kwargs, queue=queue, key=key,
                       max_attempts=max_attempts, timeout_seconds=int(timeout.total_seconds()),
                       next_attempt_at=utcnow() + (delay or timedelta(0)))
    db.session.add(intent)
    db.session.flush()
    if not delay:
        app = current_app._get_current_object()
        intent_id = intent.id
        after_commit(lambda: dispatch(app, [intent_id]))
    return intent


def dispatch(app, intent_ids: list[int]) -> None:
    """Hand committed intents to Redis, or run them in-process when Redis is not configured."""
    backend = app.extensions["backhaul.jobs"]
    if backend.redis is None:
        for intent_id in intent_ids:
            run_intent(intent_id)
        return
    for intent_id in intent_ids:
        backend.push(intent_id)


class JobBackend:
    """The transport: RQ queues over Redis, or nothing (in-process)."""

    def __init__(self, config: dict):
        self.prefix = config.get("QUEUE_PREFIX", "backhaul")
        self.redis = None
        if config.get("REDIS_URL"):
            from redis import Redis

            self.redis = Redis.from_url(config["REDIS_URL"], socket_connect_timeout=2,
                                        socket_timeout=5)

    def queue_name(self, queue: str) -> str:
        return f"{self.prefix}:{queue}"

    def queue(self, name: str):
        from rq import Queue

        return Queue(self.queue_name(name), connection=self.redis)

    def push(self, intent_id: int) -> bool:
        """Push to RQ; on success mark the intent ``enqueued``. Redis down: leave it pending."""
        intent = db.session.get(JobIntent, intent_id)
        if intent is None or intent.status not in ("pending", "enqueued"):
            return False
        try:
            self.queue(intent.queue).enqueue(RQ_ENTRY, intent_id, job_timeout=intent.timeout_seconds,
                                             result_ttl=0, failure_ttl=86400)
        except Exception as exc:  # redis.ConnectionError and friends: the sweeper retries
            log.warning("could not push job %s to Redis (%s); the sweeper will retry",
                        intent_id, type(exc).__name__)
            db.session.rollback()
            return False
        db.session.execute(sa.update(JobIntent)
                           .where(JobIntent.id == intent_id, JobIntent.status == "pending")
                           .values(status="enqueued", enqueued_at=utcnow()))
        db.session.commit()
        return True


def rq_entry(intent_id: int) -> None:
    """What RQ runs: the worker process has pushed an app context (``backhaul worker``)."""
    try:
        run_intent(intent_id)
    finally:
        db.session.remove()


def _backoff(attempts: int) -> timedelta:
    base = current_app.config.get("JOB_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def run_intent(intent_id: int) -> str:
    """Claim and run one intent. Returns what happened: done, retry, failed or skipped."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(JobIntent)
        .where(JobIntent.id == intent_id, JobIntent.status.in_(("pending", "enqueued")))
        .values(status="running", attempts=JobIntent.attempts + 1, started_at=now))
    db.session.commit()
    if claimed.rowcount != 1:
        return "skipped"  # done, failed, or running elsewhere: a duplicate delivery
    intent = db.session.get(JobIntent, intent_id)
    try:
        resolve(intent.func)(*intent.args, **intent.kwargs)
        db.session.execute(sa.update(JobIntent).where(JobIntent.id == intent_id)
                           .values(status="done", finished_at=utcnow(), last_error=None))
        db.session.commit()
        return "done"
    except Exception as exc:
        db.session.rollback()
        return _record_failure(intent_id, exc)


def _record_failure(intent_id: int, exc: BaseException) -> str:
    intent = db.session.get(JobIntent, intent_id)
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    log.error("job %s (%s) attempt %s failed: %s", intent_id, intent.func, intent.attempts, error)
    intent.last_error = error[:4000]
    intent.finished_at = utcnow()
    if intent.attempts >= intent.max_attempts:
        intent.status = "failed"
    else:
        intent.status = "pending"
        intent.next_attempt_at = utcnow() + _backoff(intent.attempts)
    db.session.commit()
    return "failed" if intent.status == "failed" else "retry"


def sweep(limit: int = 500) -> int:
    """Dispatch what is due and recover what was lost. Called by the scheduler every tick.

    * ``pending`` and due: never reached Redis, or waiting for a retry;
    * ``enqueued`` for longer than its timeout: Redis lost it (restart, flush);
    * ``running`` for longer than its timeout: the worker died; it runs again.
    """
    now = utcnow()
    app = current_app._get_current_object()
    rows = db.session.scalars(sa.select(JobIntent).where(
        JobIntent.status.in_(("pending", "enqueued", "running")),
        JobIntent.next_attempt_at <= now).order_by(JobIntent.id).limit(limit)).all()
    due = []
    for intent in rows:
        stale_since = intent.enqueued_at if intent.status == "enqueued" else intent.started_at
        if intent.status == "pending" or (
                stale_since and stale_since + timedelta(seconds=intent.timeout_seconds) < now):
            due.append(intent.id)
    if due:
        db.session.execute(sa.update(JobIntent).where(JobIntent.id.in_(due))
                           .values(status="pending"))
    db.session.commit()
    dispatch(app, due)
    return len(due)


def enqueue_periodic(name: str, func: Callable, every: timedelta, queue: str = "default") -> bool:
    """Enqueue the current slot of a periodic job once, even when two schedulers race."""
    slot = int(utcnow().timestamp() // max(every.total_seconds(), 1))
    key = f"periodic:{name}:{slot}"
    try:
        with db.session.begin_nested():
            if db.session.scalar(sa.select(JobIntent.id).where(JobIntent.key == key)):
                return False
            enqueue(func, key=key, queue=queue, max_attempts=3)
    except IntegrityError:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def failed_jobs() -> list[JobIntent]:
    return db.session.scalars(sa.select(JobIntent).where(JobIntent.status == "failed")
                              .order_by(JobIntent.id)).all()


def retry(intent_ids: list[int] | None = None) -> int:
    """Put failed jobs back to pending (all failed ones when ``intent_ids`` is None)."""
    stmt = sa.update(JobIntent).where(JobIntent.status == "failed")
    if intent_ids is not None:
        stmt = stmt.where(JobIntent.id.in_(intent_ids))
    result = db.session.execute(stmt.values(status="pending", attempts=0, next_attempt_at=utcnow()))
    db.session.commit()
    ids = intent_ids or []
    dispatch(current_app._get_current_object(), ids)
    return result.rowcount
