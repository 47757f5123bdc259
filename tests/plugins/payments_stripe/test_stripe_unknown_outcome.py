"""A charge whose answer is lost (the connection drops after Stripe accepted it): the
attempt is marked unknown, the reconciler finds the PaymentIntent by the attempt's key, and
exactly one charge exists, at Stripe and in the ledger. Never retried with a new key."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backhaul.plugins.billing import accounts, autopay
from backhaul.plugins.billing.api import payment_methods, save_payment_method
from backhaul.plugins.billing.models import Payment, PaymentAttempt
from backhaul.sdk import Customer, db, registered


def _save_card(account_id: int) -> str:
    gateway = registered("payment_gateways")["stripe"]
    setup = gateway.start_setup(Customer(account_id, "Tenant"), idempotency_key=f"setup:{account_id}",
                                method_ref="pm_card_visa")
    saved = gateway.finish_setup(setup.reference)
    assert saved is not None, setup
    save_payment_method(account_id, "stripe", saved.method_ref, saved.label)
    db.session.commit()
    assert [(m.label, m.is_default) for m in payment_methods(account_id)] == [
        ("Visa ending 4242", True)]
    return saved.method_ref


def _creates(sim) -> int:
    return sum(1 for method, path in sim.requests if (method, path) == (
        "POST", "/v1/payment_intents"))


def test_timed_out_charge_is_reconciled_to_exactly_one_charge(stripe_app, sim, billed):
    [(account_id, invoice)] = billed(1)
    _save_card(account_id)
    sim.drop_next("/v1/payment_intents")

    autopay.attempt(invoice.id)

    row = db.session.scalar(sa.select(PaymentAttempt))
    assert row.status == "undefined", "a lost answer is not a decline"
    assert len(sim.charges()) == 1, "Stripe did take the money"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0

    assert autopay.reconcile(older_than=timedelta(0)) == 1
    autopay.reconcile(older_than=timedelta(0))  # a second run changes nothing

    db.session.refresh(row)
    assert row.status == "processed" and row.late
    assert row.reference == sim.charges()[0]["payment_intent"]
    assert _creates(sim) == 1, "the reconciler asked; it never charged again"
    assert len(sim.charges()) == 1
    payments = db.session.scalars(sa.select(Payment)).all()
    assert [(p.amount, p.account_id) for p in payments] == [(5500, account_id)]
    db.session.refresh(invoice)
    assert invoice.status == "paid"
    assert accounts.balance(account_id).amount == 0


def test_webhook_after_reconciliation_changes_nothing(stripe_app, sim, billed):
    [(account_id, invoice)] = billed(1)
    _save_card(account_id)
    sim.drop_next("/v1/payment_intents")
    autopay.attempt(invoice.id)
    autopay.reconcile(older_than=timedelta(0))
    client = stripe_app.test_client()
    for event in list(sim.events):
        headers, body = sim.signed(event)
        response = client.post("/billing/gateways/stripe/webhook", data=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert accounts.balance(account_id).amount == 0
    assert len(sim.charges()) == 1


def test_repeating_the_job_does_not_charge_twice(stripe_app, sim, billed):
    """A worker that died before recording the answer: the job runs again with the same key
    and Stripe replays its answer."""
    [(account_id, invoice)] = billed(1)
    _save_card(account_id)
    sim.drop_next("/v1/payment_intents")
    autopay.attempt(invoice.id)
    row = db.session.scalar(sa.select(PaymentAttempt))
    row.status = "requested"  # as if the worker died before marking it
    db.session.commit()
    autopay.attempt(invoice.id, row.attempt_no)
    db.session.refresh(row)
    assert row.status == "processed"
    assert len(sim.charges()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
