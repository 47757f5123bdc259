"""The billing run: invoice every account whose next period has started.

* **Idempotent per account and period.** Each invoice carries the unique key
  ``period:<account>:<period start>`` and, in the same transaction, the account's
  ``next_period_start`` moves on: re-running finds nothing due, and a concurrent run that
  slipped through would hit the unique key.
* **Resumable.** Accounts are billed in chunks (``run_chunk_size``), one transaction per
  chunk holding the invoices, their lines, the ledger rows, the subscriptions' billed-through
  dates, the run's items and counters. A crash loses at most the chunk in flight (rolled
  back as a whole: never an invoice without its lines); starting the run again resumes the
  unfinished run of that date and bills what is still due.
* **Failures isolated.** A plugin or data error while composing fails that account only
  (recorded as a ``failed`` run item, shown on the run page); a database error fails the
  chunk, which is then retried account by account so that only the culprit fails.
* **Set-based.** A chunk costs a constant number of SQL statements, whatever its size:
  loading (:mod:`.snapshot`) and writing (:mod:`.bulk`) are one statement per table.
"""
from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow

from . import settings as billing_settings
from .bulk import in_ids
from .chunk import Chunk, bill_chunk, counters, period_key
from .models import BillingAccount, Run, RunItem
from .snapshot import Catalogue

log = logging.getLogger("backhaul.billing.run")
LOCK_KEY = 0x62696C6C  # "bill": serialises chunks of concurrent runs on PostgreSQL


def _due(run_date: date, limit: int, run_id: int | None = None,
         account_ids: list[int] | None = None):
    ba = BillingAccount.__table__
    query = (sa.select(ba).where(ba.c.next_period_start.is_not(None),
                                 ba.c.next_period_start <= run_date)
             .order_by(ba.c.account_id).limit(limit))
    if run_id is not None:  # accounts that failed this period in this run wait for staff
        query = query.where(~sa.exists().where(
            RunItem.run_id == run_id, RunItem.account_id == ba.c.account_id,
            RunItem.period_start == ba.c.next_period_start, RunItem.status == "failed"))
    if account_ids is not None:
        query = query.where(in_ids(ba.c.account_id, account_ids))
    return db.session.execute(query).all()


def _lock(run: Run) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
    # a write first: on SQLite this takes the database's write lock for the whole chunk
    db.session.execute(sa.update(Run).where(Run.id == run.id).values(updated_at=utcnow()))


def _record_failure(run: Run, row, error: str) -> None:
    start = row.next_period_start
    db.session.add(RunItem(run_id=run.id, account_id=row.account_id, period_start=start,
                           status="failed", error=error[:4000]))
    counters(run, Chunk(failed=1))
    db.session.commit()


@contextmanager
def _collector_paused():
    """No automatic cyclic GC while a chunk is built: the chunk makes ~100 short-lived objects
    per account, freed by reference counting, yet they trigger full collections that scan
    the whole heap (measured: ~40 µs per account, a fifth of the run). Collection resumes
    after the chunk and picks up whatever cyclic garbage it left."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _next_chunk(run: Run, catalogue: Catalogue, defaults, size: int,
                account_ids: list[int] | None) -> int:
    """Lock, pick the next due accounts and bill them in one transaction.

    Returns how many accounts were picked (0: nothing is due any more). On a database error
    the chunk is rolled back and billed again account by account, so only the culprit fails.
    """
    _lock(run)
    rows = _due(run.run_date, size, run.id, account_ids)
    if not rows:
        db.session.commit()
        return 0
    try:
        with _collector_paused():
            bill_chunk(run, rows, catalogue, defaults)
        db.session.commit()
        return len(rows)
    except Exception as exc:
        db.session.rollback()
        if len(rows) == 1:
            log.error("billing run %s: account %s failed: %s", run.id, rows[0].account_id, exc)
            _record_failure(run, rows[0], f"{type(exc).__name__}: {exc}")
            return 1
        log.warning("billing run %s: chunk failed (%s); retrying account by account",
                    run.id, type(exc).__name__)
    for row in rows:
        _next_chunk(run, catalogue, defaults, 1, [row.account_id])
    return len(rows)


def open_run(run_date: date, triggered_by: str = "system") -> Run:
    """The unfinished run of ``run_date`` (a crashed one is resumed), or a new one."""
    run = db.session.scalar(sa.select(Run).where(Run.run_date == run_date,
                                                 Run.status == "running")
                            .order_by(Run.id).limit(1))
    if run is None:
        run = Run(run_date=run_date, triggered_by=triggered_by)
        db.session.add(run)
        db.session.commit()
    return run


def execute(run: Run, *, account_ids: list[int] | None = None,
            chunk_size: int | None = None) -> Run:
    """Bill everything due on the run's date, chunk by chunk, then close the run."""
    defaults = billing_settings.load()
    size = chunk_size or defaults.run_chunk_size
    catalogue = Catalogue.load()
    run_id = run.id
    try:
        while _next_chunk(run, catalogue, defaults, size, account_ids):
            pass
    except Exception as exc:
        db.session.rollback()
        db.session.execute(sa.update(Run).where(Run.id == run_id).values(
            status="failed", error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=utcnow()))
        db.session.commit()
        raise
    run = db.session.get(Run, run_id)
    run.status = "completed_with_errors" if run.failed else "completed"
    run.finished_at = utcnow()
    db.session.commit()
    return run


def run_billing(run_date: date | None = None, *, triggered_by: str = "system",
                account_ids: list[int] | None = None, chunk_size: int | None = None) -> Run:
    """Start (or resume) the run of ``run_date`` (default today) and carry it out."""
    run = open_run(run_date or date.today(), triggered_by)
    return execute(run, account_ids=account_ids, chunk_size=chunk_size)


def retry_failed(run: Run) -> Run:
    """Bill again the accounts that failed in ``run`` (after staff fixed the cause)."""
    failed = list(db.session.scalars(sa.select(RunItem.account_id).where(
        RunItem.run_id == run.id, RunItem.status == "failed")))
    fresh = Run(run_date=run.run_date, triggered_by=f"retry of run #{run.id}")
    db.session.add(fresh)
    db.session.commit()
    return execute(fresh, account_ids=failed)


def daily_job() -> None:
    """The periodic job: today's run."""
    run_billing(triggered_by="scheduler")




@dataclass
class PreviewItem:
    account_id: int
    period_start: date
    draft: object | None = None
    error: str | None = None


#: periods one account may be billed in one preview (an account far behind catches up)
PREVIEW_MAX_PERIODS = 24


def preview(run_date: date | None = None, *, limit: int = 50,
            account_ids: list[int] | None = None) -> tuple[int, list[PreviewItem]]:
    """What the run of ``run_date`` will bill: ``(accounts due, first items)``.

    It *is* the run — the same chunk billing, catching up period after period for an account
    that is behind, plugin lines included — carried out inside a savepoint that is rolled
    back: nothing it writes is kept, no event or job leaves it, and what it shows is what the
    run will issue (one item per invoice, several for an account billed several periods).
    """
    defaults = billing_settings.load()
    run_date = run_date or date.today()
    ba = BillingAccount.__table__
    count_query = sa.select(sa.func.count()).select_from(ba).where(
        ba.c.next_period_start.is_not(None), ba.c.next_period_start <= run_date)
    if account_ids is not None:
        count_query = count_query.where(ba.c.account_id.in_(account_ids))
    due = db.session.scalar(count_query)
    collected: list = []
    savepoint = db.session.begin_nested()
    try:
        catalogue = Catalogue.load()
        scratch = Run(run_date=run_date, triggered_by="preview")
        db.session.add(scratch)
        db.session.flush()
        rows = _due(run_date, limit, None, account_ids)
        for _ in range(PREVIEW_MAX_PERIODS):
            if not rows:
                break
            bill_chunk(scratch, rows, catalogue, defaults, collect=collected)
            rows = _due(run_date, limit, scratch.id, [r.account_id for r in rows])
    finally:
        savepoint.rollback()
    return due, [PreviewItem(*entry) for entry in collected]


def start_in_background(run_date: date | None = None, triggered_by: str = "") -> Run:
    """The run of ``run_date`` (resumed if unfinished), carried out by a job after commit.

    For requests: the caller's transaction commits the run row and the job together.
    """
    run_date = run_date or date.today()
    run = db.session.scalar(sa.select(Run).where(Run.run_date == run_date,
                                                 Run.status == "running")
                            .order_by(Run.id).limit(1))
    if run is None:
        run = Run(run_date=run_date, triggered_by=triggered_by)
        db.session.add(run)
        db.session.flush()
    from backhaul.sdk import enqueue

    enqueue(execute_job, run.id, queue="billing", timeout=timedelta(hours=6), max_attempts=3)
    return run


def execute_job(run_id: int) -> None:
    """The job behind :func:`start_in_background` (safe to run twice: resumes or no-ops)."""
    run = db.session.get(Run, run_id)
    if run is not None and run.status == "running":
        execute(run)


__all__ = ["Chunk", "PreviewItem", "bill_chunk", "daily_job", "execute", "execute_job",
           "open_run", "period_key", "preview", "retry_failed", "run_billing",
           "start_in_background"]
