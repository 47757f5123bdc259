"""The run preview shows what the run issues (issue 10, defect 5).

Fiber 100: 50.00 a month + 10 % tax, billed in advance on the 1st. An account subscribed on
1 November and first billed by the run of 1 December is two periods behind: the run issues
November and December, so the preview must show both.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backhaul.plugins.billing import run, subscriptions
from backhaul.plugins.billing.graphql import account_summary
from backhaul.plugins.billing.models import Invoice, Run


def test_preview_of_an_account_behind_shows_every_invoice_the_run_issues(
        app, db, shop, make_account):
    acct = make_account("Behind")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 11, 1))
    db.session.commit()
    due, items = run.preview(date(2026, 12, 1))
    shown = [(i.period_start, i.draft.total.amount) for i in items if i.account_id == acct.id]
    assert due == 1
    assert shown == [(date(2026, 11, 1), 5500), (date(2026, 12, 1), 5500)]
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 0, "preview kept nothing"
    assert db.session.scalar(sa.select(sa.func.count(Run.id))) == 0
    run.run_billing(date(2026, 12, 1))
    issued = db.session.execute(sa.select(Invoice.period_start, Invoice.total_amount).where(
        Invoice.account_id == acct.id).order_by(Invoice.period_start)).all()
    assert [tuple(r) for r in issued] == shown


def test_next_period_shown_from_the_first_day_billed(app, db, shop, make_account):
    acct = make_account("Starts On The Third")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 12, 3))
    db.session.commit()
    assert account_summary(acct.id)["nextPeriodStart"] == date(2026, 12, 3)
    run.run_billing(date(2026, 12, 3))
    assert account_summary(acct.id)["nextPeriodStart"] == date(2027, 1, 1)
