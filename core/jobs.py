"""Jobs: an outbox in the database, RQ over Redis as the transport, in-process without Redis.

* :func:`enqueue` writes a :class:`JobIntent` in the caller's transaction, so no intent is
  lost: if the transaction commits the job exists, if it rolls back it never did.
* After commit the intent is pushed to RQ (or, with no Redis configured, run right there).
  If Redis is down the intent stays ``pending`` and :func:`sweep` pushes it later.
* :func:`run_intent` claims the row with a conditional UPDATE, so a job delivered twice runs
  once; its effect and the ``done`` mark commit together, so a worker killed mid-way leaves no
  effect and the job runs again once :func:`sweep` finds it stale (timeout + grace).
* Failures are retried with exponential backoff up to ``max_attempts``, then ``failed``
  (``backhaul jobs failed`` / ``backhaul jobs retry``).

Delivery is at-least-once: a job function must be idempotent and must not commit itself
(its writes commit together with the ``done`` mark).
"""
from __future__ import annotations

import importlib
import logging
import traceback
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import OperationalError

from .actor import Actor, acting_as
from .db import after_commit, db, utcnow, writing
from .models import JobIntent

log = logging.getLogger("backhaul.jobs")

RQ_ENTRY = "backhaul.core.jobs.rq_entry"
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600
STALE_GRACE_SECONDS = 60


def func_path(func: Callable | str) -> str:
    """``"package.module:function"`` for a module-level function (what a worker can import)."""
    if isinstance(func, str):
        if ":" not in func:
            raise ValueError(f"job path {func!r} must look like 'package.module:function'")
        return func
    module, name = func.__module__, func.__qualname__
    if "<" in name or "." in name or module == "__main__":
        raise ValueError(f"job function {module}:{name} must be a module-level function of an "
                         "importable module (a worker imports it by name)")
    return f"{module}:{name}"


def resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


# ----------------------------------------------------------------------------- enqueue
def enqueue(func: Callable | str, *args: Any, key: str | None = None, queue: str = "default",
            max_attempts: int = 5, delay: timedelta | None = None,
            timeout: timedelta = timedelta(minutes=10), **kwargs: Any) -> JobIntent:
    """Record a job in the current transaction; it is dispatched after commit.

    Arguments must be JSON-serialisable (ids, not objects). With ``key`` an intent is created
    once: a second call with the same key (even from a concurrent transaction) returns the
    first intent. With ``delay`` the job waits for the scheduler's sweep once it is due.
    """
    intent, _ = _create(func_path(func), list(args), kwargs, key=key, queue=queue,
                        max_attempts=max_attempts, delay=delay, timeout=timeout)
    return intent


def _create(path: str, args: list, kwargs: dict, *, key: str | None, queue: str,
            max_attempts: int, delay: timedelta | None,
            timeout: timedelta) -> tuple[JobIntent, bool]:
    values = {"func": path, "args": args, "kwargs": kwargs, "queue": queue, "key": key,
              "status": "pending", "attempts": 0, "max_attempts": max_attempts,
              "timeout_seconds": max(int(timeout.total_seconds()), 1),
              "next_attempt_at": utcnow() + (delay or timedelta(0))}
    if key is None:
        intent = JobIntent(**values)
        db.session.add(intent)
        db.session.flush()
    else:
        intent_id = _insert_once(values)
        if intent_id is None:  # the key exists (perhaps inserted by a racing transaction)
            return db.session.scalar(sa.select(JobIntent).where(JobIntent.key == key)), False
        intent = db.session.get(JobIntent, intent_id)
    if not delay:
        _dispatch_after_commit(intent.id)
    return intent, True


#: Intents created in each open transaction (or savepoint), dispatched together once it
#: commits. Keyed by the transaction object, so a rolled-back one's list is simply forgotten.
_PENDING_DISPATCH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _dispatch_after_commit(intent_id: int) -> None:
    """Queue ``intent_id`` for the one dispatch that runs after this transaction commits.

    One callback per transaction (not per job) lets :meth:`JobBackend.push_many` hand a whole
    request's jobs to Redis in one pipeline. An id from a rolled-back savepoint may stay in
    the list: the push reads the rows first and skips ids that do not exist.
    """
    session = db.session()
    # the same transaction after_commit ties its callback to (a savepoint when inside one)
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending = _PENDING_DISPATCH.get(transaction)
    if pending is None:
        pending = _PENDING_DISPATCH[transaction] = []
        app = current_app._get_current_object()
        after_commit(lambda: dispatch(app, list(dict.fromkeys(pending))))
    pending.append(intent_id)


def _insert_once(values: dict) -> int | None:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``: the new id, or ``None``.

    One statement, so two transactions racing on a key never fail: the second waits for the
    first and inserts nothing (and on SQLite no read precedes the write, which a concurrent
    writer would otherwise turn into "database is locked").
    """
    table = JobIntent.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    stmt = (insert(table).values(**values, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[table.c.key]).returning(table.c.id))
    return db.session.execute(stmt).scalar()


def dispatch(app, intent_ids: list[int]) -> None:
    """Hand committed intents to Redis, or run them in-process when Redis is not configured."""
    backend = app.extensions["backhaul.jobs"]
    if backend.redis is not None:
        backend.push_many(intent_ids)
        return
    for intent_id in intent_ids:
        run_intent(intent_id)


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
        """Push one intent (see :meth:`push_many`)."""
        return self.push_many([intent_id]) == 1

    def push_many(self, intent_ids: list[int]) -> int:
        """Push intents to RQ in one pipeline; mark them ``enqueued``. Redis down: leave them.

        Three round trips whatever the number of jobs: one SELECT, one Redis pipeline, one
        UPDATE. Each database step is its own short transaction (no read snapshot is held
        across the push: on SQLite a stale snapshot cannot write). A failure to record
        ``enqueued`` is harmless: the sweeper pushes again and the claim drops the duplicate.
        Returns how many intents reached Redis.
        """
        if not intent_ids:
            return 0
        rows = db.session.execute(
            sa.select(JobIntent.id, JobIntent.queue, JobIntent.timeout_seconds)
            .where(JobIntent.id.in_(intent_ids),
                   JobIntent.status.in_(("pending", "enqueued")))
            .order_by(JobIntent.id)).all()
        db.session.commit()
        if not rows:
            return 0
        try:
            with self.redis.pipeline() as pipe:
                for row in rows:
                    self.queue(row.queue).enqueue_call(
                        RQ_ENTRY, args=(row.id,), timeout=row.timeout_seconds, result_ttl=0,
                        failure_ttl=86400, pipeline=pipe)
                pipe.execute()
        except Exception as exc:  # redis.ConnectionError and friends: the sweeper retries
            log.warning("could not push %d job(s) to Redis (%s); the sweeper will retry",
                        len(rows), type(exc).__name__)
            return 0
        pushed = [row.id for row in rows]
        try:
            db.session.execute(sa.update(JobIntent)
                               .where(JobIntent.id.in_(pushed), JobIntent.status == "pending")
                               .values(status="enqueued", enqueued_at=utcnow()))
            db.session.commit()
        except sa.exc.OperationalError as exc:
            db.session.rollback()
            log.warning("%d job(s) are in Redis but could not be marked enqueued (%s)",
                        len(pushed), type(exc).__name__)
        return len(pushed)


def rq_entry(intent_id: int) -> None:
    """What RQ runs: the worker process has pushed an app context (``backhaul worker``)."""
    try:
        with writing():
            run_intent(intent_id)
    finally:
        db.session.remove()


# ----------------------------------------------------------------------------- running
def _backoff(attempts: int) -> timedelta:
    base = current_app.config.get("JOB_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def run_intent(intent_id: int) -> str:
    """Claim and run one intent: ``done``, ``retry``, ``failed``, ``skipped`` or ``lost``.

    ``skipped``: someone else has it (a duplicate delivery). ``lost``: the sweeper judged this
    attempt dead while it ran and handed the job on, so this attempt's writes are discarded.
    """
    claimed = db.session.execute(
        sa.update(JobIntent)
        .where(JobIntent.id == intent_id, JobIntent.status.in_(("pending", "enqueued")))
        .values(status="running", attempts=JobIntent.attempts + 1, started_at=utcnow())
        .returning(JobIntent.func, JobIntent.args, JobIntent.kwargs, JobIntent.attempts)
        .execution_options(synchronize_session=False)).first()
    # committing right away leaves no transaction open: the job starts on a fresh snapshot
    # (on SQLite a stale read snapshot would make the job's first write fail)
    db.session.commit()
    if claimed is None:
        return "skipped"  # done, failed, or running elsewhere
    func, args, kwargs, attempt = claimed
    try:
        with acting_as(Actor("job", str(intent_id), func)):
            resolve(func)(*args, **kwargs)
            finished = db.session.execute(
                sa.update(JobIntent)
                .where(JobIntent.id == intent_id, JobIntent.status == "running",
                       JobIntent.attempts == attempt)
                .values(status="done", finished_at=utcnow(), last_error=None))
            if finished.rowcount != 1:
                db.session.rollback()
                log.warning("job %s (%s): attempt %s was taken over; its writes are discarded",
                            intent_id, func, attempt)
                return "lost"
            db.session.commit()
        return "done"
    except Exception as exc:
        db.session.rollback()
        return _record_failure(intent_id, func, attempt, exc)


def _record_failure(intent_id: int, func: str, attempt: int, exc: BaseException) -> str:
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
    log.error("job %s (%s) attempt %s failed: %s", intent_id, func, attempt, error)
    max_attempts = db.session.scalar(sa.select(JobIntent.max_attempts)
                                     .where(JobIntent.id == intent_id))
    final = max_attempts is None or attempt >= max_attempts
    values: dict[str, Any] = {"last_error": error, "finished_at": utcnow(),
                              "status": "failed" if final else "pending"}
    if not final:
        values["next_attempt_at"] = utcnow() + _backoff(attempt)
    recorded = db.session.execute(
        sa.update(JobIntent).where(JobIntent.id == intent_id, JobIntent.status == "running",
                                   JobIntent.attempts == attempt).values(**values))
    db.session.commit()
    if recorded.rowcount != 1:
        return "lost"  # the sweeper had handed the job on meanwhile
    return "failed" if final else "retry"


# ----------------------------------------------------------------------------- sweeping
def sweep(limit: int = 500) -> int:
    """Dispatch what is due and recover what was lost. Called by the scheduler every tick.

    * ``pending`` and due: never reached Redis, or waiting for a retry;
    * ``enqueued`` for longer than its timeout (+ grace): Redis lost it (restart, flush);
    * ``running`` for longer than its timeout (+ grace): the worker died; it runs again, or
      is marked failed when that was its last attempt.

    Stale rows are taken over with a compare-and-set, so two sweepers (or a sweeper and a
    worker finishing late) never both act on the same attempt.
    """
    now = utcnow()
    app = current_app._get_current_object()
    grace = timedelta(seconds=app.config.get("JOB_STALE_GRACE_SECONDS", STALE_GRACE_SECONDS))
    due = list(db.session.scalars(
        sa.select(JobIntent.id).where(JobIntent.status == "pending",
                                      JobIntent.next_attempt_at <= now)
        .order_by(JobIntent.next_attempt_at, JobIntent.id).limit(limit)))
    in_flight = db.session.execute(
        sa.select(JobIntent.id, JobIntent.status, JobIntent.attempts, JobIntent.max_attempts,
                  JobIntent.timeout_seconds, JobIntent.enqueued_at, JobIntent.started_at)
        .where(JobIntent.status.in_(("enqueued", "running"))).order_by(JobIntent.id)
        .limit(limit)).all()
    db.session.commit()  # end the read: each take-over below is its own short transaction
    for row in in_flight:
        since = row.enqueued_at if row.status == "enqueued" else row.started_at
        if since is None or since + timedelta(seconds=row.timeout_seconds) + grace > now:
            continue
        if _take_over(row, now):
            due.append(row.id)
    dispatch(app, due)
    return len(due)


def _take_over(row, now) -> bool:
    """Compare-and-set a stale intent back to pending (or failed on its last attempt)."""
    last = row.status == "running" and row.attempts >= row.max_attempts
    values = ({"status": "failed", "finished_at": now,
               "last_error": f"worker lost: no result within {row.timeout_seconds}s "
                             f"(attempt {row.attempts} of {row.max_attempts})"}
              if last else {"status": "pending", "next_attempt_at": now})
    taken = db.session.execute(
        sa.update(JobIntent)
        .where(JobIntent.id == row.id, JobIntent.status == row.status,
               JobIntent.attempts == row.attempts)
        .values(**values))
    db.session.commit()
    if taken.rowcount != 1:
        return False  # someone else acted on it first
    log.warning("job %s was %s for too long: %s", row.id, row.status,
                "failed" if last else "dispatching it again")
    return not last


def enqueue_periodic(name: str, func: Callable | str, every: timedelta,
                     queue: str = "default") -> bool:
    """Enqueue the current slot of a periodic job once, even when two schedulers race.

    The slot is part of the intent's unique key and the insert does nothing on a conflict,
    so exactly one scheduler creates it. Commits; returns whether this call created it.
    """
    slot = int(utcnow().timestamp() // max(every.total_seconds(), 1))
    key = f"periodic:{name}:{slot}"
    db.session.commit()  # start from a fresh transaction whose first statement is the insert
    try:
        _, created = _create(func_path(func), [], {}, key=key, queue=queue, max_attempts=3,
                             delay=None, timeout=timedelta(minutes=10))
        db.session.commit()
    except OperationalError as exc:  # SQLite busy beyond its timeout: the next tick retries
        db.session.rollback()
        log.warning("periodic slot %s not enqueued this tick: %s", key, type(exc).__name__)
        return False
    return created


# ----------------------------------------------------------------------------- operators
def failed_jobs() -> list[JobIntent]:
    return list(db.session.scalars(sa.select(JobIntent).where(JobIntent.status == "failed")
                                   .order_by(JobIntent.id)))


def retry(intent_ids: list[int] | None = None) -> int:
    """Put failed jobs back (all failed ones when ``intent_ids`` is None) and dispatch them."""
    query = sa.select(JobIntent.id).where(JobIntent.status == "failed")
    if intent_ids is not None:
        query = query.where(JobIntent.id.in_(intent_ids))
    ids = list(db.session.scalars(query.order_by(JobIntent.id)))
    retried = []
    for intent_id in ids:
        result = db.session.execute(
            sa.update(JobIntent).where(JobIntent.id == intent_id, JobIntent.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=utcnow()))
        if result.rowcount == 1:
            retried.append(intent_id)
    db.session.commit()
    dispatch(current_app._get_current_object(), retried)
    return len(retried)
