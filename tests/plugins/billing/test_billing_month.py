"""The issue's "done when": a month of an MDU's life runs by itself — invoices on the billing
day, auto-pay charged, a late tenant delinquent and restored on payment, and the ledger
balancing to the cent. Plus: the scheduler's tick starts the billing run on its own."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import accounts, autopay, checks, delinquency, fees, ledger, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Invoice, Payment, Run, Transaction
from backhaul.sdk import PaymentGateway, PaymentResult, PaymentStatus, PluginMeta


class Processor(PaymentGateway):
    key = "mdupay"
    label = "Test processor"

    def __init__(self):
        self.charges: dict[str, int] = {}

    def purchase(self, amount, method_ref, *, idempotency_key, description="", metadata=None):
        if method_ref == "pm_expired":
            return PaymentResult(PaymentStatus.ERROR, None, "card expired")
        self.charges.setdefault(idempotency_key, amount.amount)
        return PaymentResult(PaymentStatus.PROCESSED, f"ch_{idempotency_key}")


@pytest.fixture
def mdu(billing_app, temp_plugin, request, db, make_account):
    processor = Processor()
    statuses: list = []
    plugin = temp_plugin(
        "mdupay", meta=PluginMeta(name="mdupay"), payment_gateways=lambda: [processor],
        account_status_changed=lambda account_id, old_status, new_status, reason:
            statuses.append((account_id, new_status, reason)))
    app = billing_app(extra_plugins=[plugin], reconnection_fee="25.00", late_fee="5.00",
                      late_fee_after_days=10, grace_days=5, due_days=14)
    with app.app_context():
        shop = request.getfixturevalue("shop")
        tenants = {}
        for unit, method in (("101", "pm_visa"), ("102", "pm_mc"), ("103", None),
                             ("104", "pm_expired")):
            acct = make_account(f"Maple Court #{unit}")
            subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
            subs.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 3, 1))
            if method:
                accounts.update(acct.id, autopay=True)
                autopay.add_payment_method(acct.id, "mdupay", method)
            tenants[unit] = acct
        db.session.commit()
        yield app, tenants, processor, statuses


def _status(db, acct) -> str:
    db.session.refresh(acct)
    return acct.status.key


def test_a_month_in_the_life_of_an_mdu(mdu, db):
    app, tenants, processor, statuses = mdu
    # 1 March, the billing day: the run invoices every unit; auto-pay charges three cards
    result = run.run_billing(date(2026, 3, 1))
    assert (result.invoiced, result.failed) == (4, 0)
    db.session.expire_all()
    paid = {unit: db.session.scalar(sa.select(Invoice.status).where(
        Invoice.account_id == acct.id)) for unit, acct in tenants.items()}
    assert paid == {"101": "paid", "102": "paid", "103": "finalized", "104": "finalized"}
    assert sorted(processor.charges.values()) == [7500, 7500]  # 50 + 5 tax + 20, twice

    # 16 March: #104's card keeps failing (dunning), #103 never pays; nothing happens yet
    autopay.attempt(db.session.scalar(sa.select(Invoice.id).where(
        Invoice.account_id == tenants["104"].id)), 2)
    assert delinquency.run_nightly(date(2026, 3, 16)) == {}
    # 21 March: past due (15 Mar) + 5 grace days: both late tenants are delinquent
    assert delinquency.run_nightly(date(2026, 3, 21)) == {"delinquent": 2}
    assert [s for s in statuses if s[2] == "delinquency"] == [
        (tenants["103"].id, "delinquent", "delinquency"),
        (tenants["104"].id, "delinquent", "delinquency")]
    # 26 March: late fees (due + 10 days), once
    assert fees.charge_late_fees(date(2026, 3, 26)) == 2
    assert fees.charge_late_fees(date(2026, 3, 27)) == 0
    # 27 March: #103 pays everything at the office: restored, reconnection fee invoiced
    due = ledger.amount_due(tenants["103"].id, "USD")
    assert due.amount == 7500 + 500
    ledger.record_payment(tenants["103"].id, due, method="cash", received_on=date(2026, 3, 27))
    db.session.commit()
    assert _status(db, tenants["103"]) == "active"
    assert statuses[-1] == (tenants["103"].id, "active", "delinquency_cleared")
    assert _status(db, tenants["104"]) == "delinquent"
    # 1 April: the next run; everything still balances to the cent
    assert run.run_billing(date(2026, 4, 1)).invoiced == 4
    assert checks.problems() == {}
    balances = {unit: accounts.balance(acct.id).amount for unit, acct in tenants.items()}
    assert balances == {"101": 0, "102": 0, "103": 2500 + 7500, "104": 7500 + 500 + 7500}
    ledger_total = db.session.scalar(sa.select(sa.func.sum(Transaction.amount)))
    assert ledger_total == sum(balances.values())
    received = db.session.scalar(sa.select(sa.func.sum(Payment.amount)))
    invoiced = db.session.scalar(sa.select(sa.func.sum(Invoice.total_amount)))
    assert invoiced - received == ledger_total


def test_the_scheduler_starts_the_billing_run(billing_app, request, db, make_account):
    from backhaul.core.scheduler import tick

    app = billing_app()
    with app.app_context():
        shop = request.getfixturevalue("shop")
        acct = make_account()
        subs.subscribe(acct.id, service=shop.fiber, start_date=date.today())
        db.session.commit()
    tick(app)  # enqueues every periodic slot; without Redis the jobs run in-process
    with app.app_context():
        runs = db.session.scalars(sa.select(Run)).all()
        assert [(r.run_date, r.status, r.invoiced, r.triggered_by) for r in runs] == [
            (date.today(), "completed", 1, "scheduler")]
