"""Auto-pay through the payment_gateways extension point, with an in-test gateway plugin.

The gateway keeps its own record of what it charged, by idempotency key, the way a real
processor does: the tests check that money moves once however often Backhaul retries.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import accounts, autopay, checks, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Invoice, Payment, PaymentAttempt
from backhaul.sdk import PaymentGateway, PaymentResult, PaymentStatus, PluginMeta


class SimGateway(PaymentGateway):
    key = "simpay"
    label = "Simulated processor"

    def __init__(self):
        self.script: list[str] = []  # what the next new charges do: ok/decline/timeout/pending
        self.charged: dict[str, tuple[str, int]] = {}  # idempotency key -> (reference, amount)
        self.pending: dict[str, str] = {}  # reference -> final status once settled
        self.calls = 0

    def purchase(self, amount, method_ref, *, idempotency_key, description="", metadata=None):
        self.calls += 1
        if idempotency_key in self.charged:
            return PaymentResult(PaymentStatus.PROCESSED, self.charged[idempotency_key][0])
        behaviour = self.script.pop(0) if self.script else "ok"
        reference = f"ch_{len(self.charged) + len(self.pending) + 1}"
        if behaviour == "decline":
            return PaymentResult(PaymentStatus.ERROR, None, "card declined")
        if behaviour == "pending":
            self.pending[reference] = idempotency_key
            return PaymentResult(PaymentStatus.PENDING, reference, "3-D Secure")
        self.charged[idempotency_key] = (reference, amount.amount)
        if behaviour == "timeout":
            raise TimeoutError("read timed out")
        return PaymentResult(PaymentStatus.PROCESSED, reference)

    def settle(self, reference: str) -> None:
        key = self.pending.pop(reference)
        self.charged[key] = (reference, 0)

    def fetch(self, reference):
        for ref, _ in self.charged.values():
            if ref == reference:
                return PaymentResult(PaymentStatus.PROCESSED, reference)
        return PaymentResult(PaymentStatus.PENDING, reference)


@pytest.fixture
def gateway():
    return SimGateway()


@pytest.fixture
def pay_app(billing_app, temp_plugin, gateway, request):
    plugin = temp_plugin("simpay", meta=PluginMeta(name="simpay"),
                         payment_gateways=lambda: [gateway])
    app = billing_app(extra_plugins=[plugin], autopay=True, dunning_schedule=[1, 3])
    with app.app_context():
        yield app


@pytest.fixture
def tenant(pay_app, request, db, make_account):
    shop = request.getfixturevalue("shop")
    acct = make_account()
    subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    autopay.add_payment_method(acct.id, "simpay", "pm_visa_4242", "Visa 4242")
    db.session.commit()
    return acct


def _invoice(db, acct) -> Invoice:
    return db.session.scalar(sa.select(Invoice).where(Invoice.account_id == acct.id))


def _attempts(db):
    return db.session.scalars(sa.select(PaymentAttempt).order_by(PaymentAttempt.id)).all()


def test_run_charges_autopay_accounts(pay_app, db, tenant, gateway):
    run.run_billing(date(2026, 3, 1))
    db.session.expire_all()
    invoice = _invoice(db, tenant)
    assert invoice.status == "paid"
    [attempt] = _attempts(db)
    assert (attempt.idempotency_key, attempt.status) == (f"autopay:{invoice.id}:1", "processed")
    assert gateway.charged == {attempt.idempotency_key: ("ch_1", 5500)}
    payment = db.session.get(Payment, attempt.payment_id)
    assert (payment.method, payment.amount, payment.reference) == ("autopay", 5500, "ch_1")
    assert accounts.balance(tenant.id).amount == 0


def test_declined_attempt_is_retried_on_the_dunning_schedule(pay_app, db, tenant, gateway):
    from backhaul.core.models import JobIntent

    gateway.script = ["decline"]
    run.run_billing(date(2026, 3, 1))
    db.session.expire_all()
    [first] = _attempts(db)
    assert (first.status, first.message) == ("error", "card declined")
    invoice = _invoice(db, tenant)
    retry = db.session.scalar(sa.select(JobIntent).where(
        JobIntent.key == f"autopay:retry:{invoice.id}:2"))
    assert retry.status == "pending" and retry.args == [invoice.id, 2]
    assert retry.next_attempt_at - first.updated_at > timedelta(hours=23)
    autopay.attempt(invoice.id, 2)  # what the job runs when it is due
    db.session.expire_all()
    assert [a.status for a in _attempts(db)] == ["error", "processed"]
    assert _invoice(db, tenant).status == "paid"


def test_timeout_is_reconciled_without_charging_twice(pay_app, db, tenant, gateway):
    gateway.script = ["timeout"]  # the processor charged, but we never heard back
    run.run_billing(date(2026, 3, 1))
    db.session.expire_all()
    [attempt] = _attempts(db)
    assert attempt.status == "undefined" and _invoice(db, tenant).status == "finalized"
    autopay.reconcile(older_than=timedelta(0))
    db.session.expire_all()
    assert attempt.status == "processed" and attempt.late
    assert len(gateway.charged) == 1 and gateway.calls == 2
    assert _invoice(db, tenant).status == "paid"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_worker_death_after_request_resumes_with_the_same_key(pay_app, db, tenant, gateway):
    run.run_billing(date(2026, 3, 1))
    db.session.expire_all()
    invoice = _invoice(db, tenant)
    assert invoice.status == "paid"  # (the in-process job ran once already)
    # simulate: attempt 2 written and committed, then the worker died before the answer
    row = PaymentAttempt(invoice_id=invoice.id, account_id=tenant.id, attempt_no=2,
                         idempotency_key=f"autopay:{invoice.id}:2", gateway="simpay",
                         method_ref="pm_visa_4242", amount=5500, currency="USD")
    db.session.add(row)
    db.session.commit()
    gateway.charged[row.idempotency_key] = ("ch_9", 5500)  # the processor did charge
    autopay.attempt(invoice.id, 2)  # the job runs again
    autopay.attempt(invoice.id, 2)  # and again: nothing more happens
    db.session.expire_all()
    assert row.status == "processed" and row.late is False
    # money moved twice at the processor (attempts 1 and 2): both are recorded, the second
    # as credit on the account, never lost
    assert accounts.balance(tenant.id).amount == -5500
    assert checks.problems() == {}


def test_late_answer_from_a_webhook_is_recorded(pay_app, db, tenant, gateway):
    gateway.script = ["pending"]
    run.run_billing(date(2026, 3, 1))
    db.session.expire_all()
    [attempt] = _attempts(db)
    assert attempt.status == "pending" and attempt.reference == "ch_1"
    gateway.settle("ch_1")
    found = autopay.find_attempt(reference="ch_1")
    autopay.record_answer(found, PaymentResult(PaymentStatus.PROCESSED, "ch_1"), late=True)
    autopay.record_answer(found, PaymentResult(PaymentStatus.PROCESSED, "ch_1"), late=True)
    db.session.expire_all()
    assert attempt.status == "processed" and attempt.late
    assert _invoice(db, tenant).status == "paid"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_no_autopay_without_the_setting(billing_app, temp_plugin, gateway, request, db,
                                        make_account):
    plugin = temp_plugin("simpay", meta=PluginMeta(name="simpay"),
                         payment_gateways=lambda: [gateway])
    with billing_app(extra_plugins=[plugin]).app_context():
        shop = request.getfixturevalue("shop")
        acct = make_account()
        subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
        autopay.add_payment_method(acct.id, "simpay", "pm_1")
        db.session.commit()
        run.run_billing(date(2026, 3, 1))
        assert _attempts(db) == [] and gateway.calls == 0
