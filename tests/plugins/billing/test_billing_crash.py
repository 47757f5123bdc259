"""Crash injection: the process running a billing run is killed (SIGKILL) at random points.

Each round forks a worker process that runs the billing run of the next month (plus whatever
earlier rounds left undone) and is killed either by itself at a random SQL statement (before
or after it executes) or by the test after a random delay (which can land inside a COPY).
After every kill, and after a final uninterrupted run, the database must hold no duplicate
invoice, no invoice without its lines (or with lines that do not add up), gap-free numbers
and a ledger that balances for every account. The seed is printed; ``BILLING_CRASH_SEED``
replays a run.
"""
from __future__ import annotations

import os
import random
import signal
import time
from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import checks, ledger, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import BillingAccount, Invoice, InvoiceLine

STATEMENT_KILLS = int(os.environ.get("BILLING_CRASH_ROUNDS", "22"))
TIMER_KILLS = 6
ACCOUNTS = 60
FIRST = date(2026, 1, 1)
CHUNK = 6  # 10 chunks per month: a month's run sends well over 100 statements


def _populate(db, shop, make_account) -> None:
    for i in range(ACCOUNTS):
        acct = make_account(f"Tenant {i}")
        for service in (shop.fiber, shop.voice, shop.maintenance):
            subs.subscribe(acct.id, service=service, start_date=date(2026, 1, 1))
        if i % 5 == 0:
            subs.add_charge(acct.id, "Installation", "99.00", charge_date=date(2026, 1, 5))
        if i % 7 == 0:
            subs.add_adjustment(acct.id, mode="percent", percent="15", recurring=True,
                                start_date=date(2026, 1, 1))
        if i % 4 == 0:
            ledger.record_payment(acct.id, "200.00", method="bank_transfer")
    db.session.commit()


def _month(n: int) -> date:
    return date(FIRST.year + (FIRST.month - 1 + n) // 12, (FIRST.month - 1 + n) % 12 + 1, 1)


def _worker(app, run_date: date, kill_at: int | None, when: str) -> None:
    """The child: run the billing run, dying at statement ``kill_at`` if given."""
    from backhaul.sdk import db

    with app.app_context():
        db.engine.dispose(close=False)  # never touch the parent's connections
        if kill_at is not None:
            count = 0

            def maybe_die(*_args, **_kwargs):
                nonlocal count
                count += 1
                if count >= kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

            sa.event.listen(db.engine, f"{when}_cursor_execute", maybe_die)
        run.run_billing(run_date, chunk_size=CHUNK, triggered_by="crash-test")
    os._exit(0)


def _fork_and_kill(app, db, rng: random.Random, mode: str, run_date: date) -> str:
    db.session.remove()
    db.engine.dispose()  # no connection may cross the fork
    kill_at = rng.randint(1, 100) if mode == "statement" else None
    when = rng.choice(["before", "after"])
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _worker(app, run_date, kill_at, when)
        finally:
            os._exit(1)
    if mode == "timer":
        time.sleep(rng.uniform(0.01, 0.25))
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return f"{mode}@{kill_at}:{'killed' if killed else os.WEXITSTATUS(status)}"


def _assert_consistent(db) -> None:
    db.session.expire_all()
    assert checks.problems() == {}
    bare = db.session.scalar(sa.select(sa.func.count(Invoice.id)).where(
        ~sa.exists().where(InvoiceLine.invoice_id == Invoice.id)))
    assert bare == 0


@pytest.mark.slow
def test_killed_billing_runs_leave_consistent_data(app, db, shop, make_account):
    seed = int(os.environ.get("BILLING_CRASH_SEED", random.randrange(10**6)))
    print(f"crash-injection seed: {seed}")
    rng = random.Random(seed)
    _populate(db, shop, make_account)
    modes = ["statement"] * STATEMENT_KILLS + ["timer"] * TIMER_KILLS
    rng.shuffle(modes)
    outcomes = []
    started = time.monotonic()
    for month, mode in enumerate(modes):
        outcomes.append(_fork_and_kill(app, db, rng, mode, _month(month)))
        _assert_consistent(db)
    billed = db.session.scalar(sa.select(sa.func.count(Invoice.id)))
    print("rounds:", outcomes, f"{time.monotonic() - started:.1f}s; {billed} invoices so far")
    assert sum("killed" in o for o in outcomes) >= 20

    last = _month(len(modes) - 1)
    final = run.run_billing(last, chunk_size=CHUNK)
    _assert_consistent(db)
    assert final.status == "completed"
    invoices = db.session.execute(sa.select(Invoice.account_id, Invoice.period_start)
                                  .where(Invoice.key.like("period:%"))).all()
    assert len(invoices) == len(set(invoices)) == ACCOUNTS * len(modes)
    assert set(db.session.scalars(sa.select(BillingAccount.next_period_start))) == {
        _month(len(modes))}
    numbers = sorted(db.session.scalars(sa.select(Invoice.number)
                                        .where(Invoice.series == "INV")))
    assert numbers == list(range(1, len(numbers) + 1))  # gap-free through every crash
