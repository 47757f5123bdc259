"""A move-out ends the tenant's services (issue 10, defect 1).

Expectations are worked by hand: Fiber 100 is 50.00 a month, prorated, 10 % tax; a tenant
billed for the whole month who leaves on day ``d`` of a 31-day month is owed
``(31 - d + 1) / 31`` of it under ``move_out_credit = "prorate"`` and nothing under ``"none"``.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import run, subscriptions
from backhaul.plugins.billing.models import Invoice, Subscription
from backhaul.sdk import db as _db

MONTH = date(2026, 12, 1)          # a 31-day month
NEXT = date(2027, 1, 1)


def _invoices(account_id, since_run=None):
    q = sa.select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.id)
    return list(_db.session.scalars(q))


def _move_out_on(account, day: date, monkeypatch):
    """Execute the move-out as the scheduler does on ``day`` (billing reads today's date)."""
    from backhaul.core.accounts.moves import execute_move_out
    from backhaul.plugins.billing import moveout

    monkeypatch.setattr(moveout, "today", lambda: day)
    execute_move_out(account)
    _db.session.commit()


@pytest.fixture
def tenant(app, db, shop, make_account):
    acct = make_account("Leaving Tenant")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=MONTH)
    db.session.commit()
    run.run_billing(MONTH)
    first = _invoices(acct.id)
    assert [i.total_amount for i in first] == [5500]  # 50.00 + 10 % tax, the month ahead
    return acct


def test_move_out_ends_every_line_and_credits_the_unused_days(tenant, db, monkeypatch):
    _move_out_on(tenant, date(2026, 12, 11), monkeypatch)
    subs = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == tenant.id)).all()
    assert [s.end_date for s in subs] == [date(2026, 12, 11)]
    run.run_billing(NEXT)
    later = _invoices(tenant.id)[1:]
    # 21 of 31 days unused: 50.00 * 21/31 = 33.87, tax 3.39 -> 37.26 owed back; no January
    assert [(i.kind, i.total_amount) for i in later] == [("credit_note", -3726)] or \
        [(i.kind, abs(i.total_amount)) for i in later] == [("credit_note", 3726)]
    run.run_billing(date(2027, 2, 1))
    assert len(_invoices(tenant.id)) == 2, "nothing billed after the move-out"


@pytest.mark.billing_settings(move_out_credit="none")
def test_move_out_without_credit_runs_to_the_billed_date(tenant, db, monkeypatch):
    _move_out_on(tenant, date(2026, 12, 11), monkeypatch)
    sub = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == tenant.id)).one()
    assert sub.end_date == NEXT
    run.run_billing(NEXT)
    run.run_billing(date(2027, 2, 1))
    assert len(_invoices(tenant.id)) == 1, "no credit and nothing more billed"


def test_a_line_that_had_not_started_is_never_billed(app, db, shop, make_account, monkeypatch):
    acct = make_account("Never Moved In")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2027, 1, 15))
    db.session.commit()
    _move_out_on(acct, date(2026, 12, 20), monkeypatch)
    run.run_billing(NEXT)
    run.run_billing(date(2027, 2, 1))
    assert _invoices(acct.id) == []


def test_other_status_changes_leave_services_alone(tenant, db):
    from backhaul.sdk.accounts import set_status
    set_status(tenant, "moved_out", reason="manual")
    db.session.commit()
    sub = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == tenant.id)).one()
    assert sub.end_date is None


def test_moving_out_on_the_first_billed_day_keeps_one_day(app, db, shop, make_account,
                                                          monkeypatch):
    acct = make_account("In And Out")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=MONTH)
    db.session.commit()
    run.run_billing(MONTH)
    _move_out_on(acct, MONTH, monkeypatch)
    sub = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == acct.id)).one()
    assert sub.end_date == date(2026, 12, 2)
    run.run_billing(NEXT)
    # 30 of 31 days credited: 50.00 * 30/31 = 48.39, tax 4.84 -> 53.23
    assert [abs(i.total_amount) for i in _invoices(acct.id)] == [5500, 5323]
