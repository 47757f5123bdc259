"""The billing run: history, failures isolated, plugin lines, preview, set-based SQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import checks, run, subscriptions
from backhaul.plugins.billing.hookspecs import ContributedLine
from backhaul.plugins.billing.models import Invoice, Run, RunItem
from backhaul.sdk import Money, PluginMeta


def _subscribe_many(db, make_account, service, n: int, start=date(2026, 3, 1)):
    ids = []
    for i in range(n):
        acct = make_account(f"Tenant {i}")
        subscriptions.subscribe(acct.id, service=service, start_date=start)
        ids.append(acct.id)
    db.session.commit()
    return ids


def _usage_plugin(temp_plugin, fail_for: set[int] = frozenset()):
    def invoice_lines(account, period):
        if account.id in fail_for:
            raise RuntimeError("usage collector unreachable")
        return [ContributedLine("Data included in plan: 200 GB", Money(0, "USD"),
                                Decimal("200"), kind="usage", period=period),
                {"description": "Data over allowance: 12.5 GB at 1.00",
                 "unit_price": Money(100, "USD"), "quantity": "12.5"}]

    return temp_plugin("usage_probe", meta=PluginMeta(name="usage_probe",
                                                      depends_on=("billing",)),
                       invoice_lines=invoice_lines)


def test_run_history_counts_and_items(app, db, shop, make_account):
    ids = _subscribe_many(db, make_account, shop.fiber, 3)
    idle = make_account("Idle")
    subscriptions.subscribe(idle.id, service=shop.fiber, start_date=date(2026, 3, 1),
                            end_date=date(2026, 3, 2))
    db.session.commit()
    result = run.run_billing(date(2026, 3, 1), triggered_by="staff:alice", chunk_size=2)
    assert (result.status, result.invoiced, result.empty, result.failed) == (
        "completed", 4, 0, 0)
    second = run.run_billing(date(2026, 4, 1))
    assert (second.invoiced, second.empty) == (3, 1)  # the ended one has nothing to bill
    items = db.session.scalars(sa.select(RunItem).where(RunItem.run_id == second.id)).all()
    assert [(i.account_id, i.status) for i in items] == [(idle.id, "empty")]
    billed = db.session.scalars(sa.select(Invoice.account_id).where(
        Invoice.run_id == second.id)).all()
    assert sorted(billed) == sorted(ids)
    assert [r.triggered_by for r in db.session.scalars(sa.select(Run).order_by(Run.id))] == [
        "staff:alice", "system"]


def test_plugin_lines_free_and_billable_usage_shown_separately(
        billing_app, temp_plugin, db, make_account, request):
    app = billing_app(extra_plugins=[_usage_plugin(temp_plugin)])
    with app.app_context():
        shop = request.getfixturevalue("shop")
        [aid] = _subscribe_many(db, make_account, shop.fiber, 1)
        run.run_billing(date(2026, 3, 1))
        invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == aid))
        usage = [(line.description, line.quantity, line.amount, line.source)
                 for line in invoice.lines if line.kind == "usage"]
        assert usage == [
            ("Data included in plan: 200 GB", Decimal("200"), 0, "usage_probe"),
            ("Data over allowance: 12.5 GB at 1.00", Decimal("12.5"), 1250, "usage_probe")]


def test_one_accounts_failure_is_isolated_and_reported(
        billing_app, temp_plugin, db, make_account, request):
    from backhaul.sdk.accounts import create_account

    with billing_app().app_context():
        shop = request.getfixturevalue("shop")
        accts = [create_account(name=f"T{i}") for i in range(4)]
        for acct in accts:
            subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
        db.session.commit()
        bad = accts[1].id
    app = billing_app(extra_plugins=[_usage_plugin(temp_plugin, fail_for={bad})])
    with app.app_context():
        result = run.run_billing(date(2026, 3, 1))
        assert (result.status, result.invoiced, result.failed) == ("completed_with_errors", 3, 1)
        failed = db.session.scalar(sa.select(RunItem).where(RunItem.status == "failed"))
        assert failed.account_id == bad
        assert "usage collector unreachable" in failed.error and "usage_probe" in failed.error
        again = run.run_billing(date(2026, 3, 1))  # the same run: the failure waits for staff
        assert again.id == result.id or again.invoiced == 0
        assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 3
    with billing_app().app_context():  # the cause is fixed (plugin gone): retry the failures
        retried = run.retry_failed(db.session.get(Run, result.id))
        assert (retried.invoiced, retried.failed) == (1, 0)
        assert checks.problems() == {}


def test_database_error_fails_only_the_culprit(app, db, shop, make_account):
    """A chunk that hits a database error is retried account by account."""
    ids = _subscribe_many(db, make_account, shop.fiber, 3)
    # an invoice already holding the key of account #2's period: its insert must fail
    db.session.add(Invoice(account_id=ids[1], currency="USD", status="draft",
                           key=run.period_key(ids[1], date(2026, 3, 1))))
    db.session.commit()
    result = run.run_billing(date(2026, 3, 1))
    assert (result.invoiced, result.failed) == (2, 1)
    failed = db.session.scalar(sa.select(RunItem).where(RunItem.status == "failed"))
    assert failed.account_id == ids[1] and "unique" in failed.error.lower()
    assert "billing_invoice" in failed.error


def test_preview_shows_what_the_run_will_bill_and_writes_nothing(app, db, shop, make_account):
    ids = _subscribe_many(db, make_account, shop.fiber, 3)
    due, items = run.preview(date(2026, 3, 1), limit=2)
    assert due == 3 and len(items) == 2
    assert items[0].draft.total == Money(5500, "USD") and items[0].account_id == ids[0]
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 0
    result = run.run_billing(date(2026, 3, 1))
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == ids[0]))
    assert invoice.total_amount == items[0].draft.total.amount and result.invoiced == 3
    assert run.preview(date(2026, 3, 1))[0] == 0


def _statements(db, func) -> int:
    count = 0

    def before(*_args, **_kwargs):
        nonlocal count
        count += 1

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        func()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    return count


@pytest.mark.billing_settings(run_chunk_size=1000)
def test_statement_count_does_not_grow_with_accounts(app, db, shop, make_account):
    """10 or 60 accounts (one chunk): the same number of SQL statements."""
    _subscribe_many(db, make_account, shop.fiber, 10)
    small = _statements(db, lambda: run.run_billing(date(2026, 3, 1)))
    _subscribe_many(db, make_account, shop.fiber, 60, start=date(2026, 4, 1))
    large = _statements(db, lambda: run.run_billing(date(2026, 4, 1)))
    assert db.session.scalar(sa.select(Run.invoiced).order_by(Run.id.desc()).limit(1)) == 70
    assert large == small, (small, large)
