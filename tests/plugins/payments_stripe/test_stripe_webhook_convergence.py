"""Webhooks in any order, once or twice, converge: 100 random orderings, one account each,
of the same story told by Stripe (the simulator):

* PI1 pays the invoice (55.00) by bank debit: ``processing``, later ``succeeded``; two
  partial refunds (10.00 and 5.00);
* PI2, 20.00, is declined (``payment_failed``: nothing to record);
* PI3, 20.00, is paid and then disputed (charged back).

Every event Stripe emitted (customer, charges, unknown types included) is delivered once or
twice, shuffled, through billing's webhook route. The expected end state is worked out by
hand, not from the code: the invoice has 55.00 - 15.00 refunded = 40.00 paid; the account
owes 15.00; PI3 is reversed; the ledger holds exactly these rows.
"""
from __future__ import annotations

import random

import sqlalchemy as sa

from backhaul.plugins.billing import accounts
from backhaul.plugins.billing.models import Invoice, Payment, Transaction
from backhaul.sdk import Customer, Money, PaymentStatus, db, registered

ORDERINGS = 100
EXPECTED = {
    "invoice": ("partially_paid", 5500, 4000),
    "balance": 1500,
    "payments": [(2000, 0, "reversed", "card"), (5500, 1500, "completed", "card")],
    "transactions": sorted([("invoice", 5500), ("payment", -5500), ("payment", -2000),
                            ("reversal", 2000), ("refund", 1000), ("refund", 500)]),
}


def _story(sim, gateway, account_id: int, invoice_id: int) -> list[dict]:
    start = len(sim.events)
    who = Customer(account_id, f"Tenant {account_id}", f"t{account_id}@example.net")
    pi1 = gateway.start_checkout(Money(5500, "USD"), who, idempotency_key=f"c1:{account_id}",
                                 method_ref="pm_usBankAccount_success",
                                 metadata={"invoice_id": invoice_id})
    assert pi1.status == PaymentStatus.PENDING
    sim.settle(pi1.reference)
    for n, amount in enumerate((1000, 500)):
        refund = gateway.refund(Money(amount, "USD"), pi1.reference,
                                idempotency_key=f"r{n}:{account_id}")
        assert refund.status == PaymentStatus.PROCESSED
    declined = gateway.start_checkout(Money(2000, "USD"), who,
                                      idempotency_key=f"c2:{account_id}",
                                      method_ref="pm_card_chargeDeclined")
    assert declined.status == PaymentStatus.ERROR
    pi3 = gateway.start_checkout(Money(2000, "USD"), who, idempotency_key=f"c3:{account_id}",
                                 method_ref="pm_card_visa")
    assert pi3.status == PaymentStatus.PROCESSED
    sim.dispute(pi3.reference)
    return sim.events[start:]


def _state(account_id: int, invoice_id: int) -> dict:
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice_id)
    payments = db.session.scalars(sa.select(Payment).where(Payment.account_id == account_id))
    txs = db.session.execute(sa.select(Transaction.kind, Transaction.amount).where(
        Transaction.account_id == account_id)).all()
    return {"invoice": (invoice.status, invoice.total_amount, invoice.paid_amount),
            "balance": accounts.balance(account_id).amount,
            "payments": sorted((p.amount, p.refunded_amount, p.status, p.method)
                               for p in payments),
            "transactions": sorted((kind, amount) for kind, amount in txs)}


def test_webhooks_once_twice_shuffled_converge(stripe_app, sim, billed):
    gateway = registered("payment_gateways")["stripe"]
    client = stripe_app.test_client()
    seen_orders = set()
    for seed, (account_id, invoice) in enumerate(billed(ORDERINGS)):
        events = _story(sim, gateway, account_id, invoice.id)
        assert {"payment_intent.processing", "payment_intent.succeeded", "refund.created",
                "payment_intent.payment_failed", "charge.dispute.created"} <= {
                    e["type"] for e in events}
        rng = random.Random(seed)
        deliveries = [e for e in events for _ in range(rng.choice((1, 2)))]
        rng.shuffle(deliveries)
        seen_orders.add(tuple(e["id"] for e in deliveries))
        for event in deliveries:
            headers, body = sim.signed(event)
            answer = client.post("/billing/gateways/stripe/webhook", data=body,
                                 headers=headers)
            assert answer.status_code == 200, (event["type"], answer.get_data(as_text=True))
        assert _state(account_id, invoice.id) == EXPECTED, f"ordering {seed}"
    assert len(seen_orders) == ORDERINGS


def test_a_late_refund_before_the_payment_records_both(stripe_app, sim, billed):
    """The refund's event alone (the payment's events lost or late) records the payment
    first, then the refund."""
    gateway = registered("payment_gateways")["stripe"]
    [(account_id, invoice)] = billed(1)
    events = _story(sim, gateway, account_id, invoice.id)
    client = stripe_app.test_client()
    refunds = [e for e in events if e["type"] == "refund.created"]
    for event in refunds:
        headers, body = sim.signed(event)
        assert client.post("/billing/gateways/stripe/webhook", data=body,
                           headers=headers).status_code == 200
    state = _state(account_id, invoice.id)
    assert state["payments"] == [(5500, 1500, "completed", "card")]
    assert state["balance"] == 1500


def test_autopay_with_a_lost_answer_converges_whatever_the_webhooks_do(stripe_app, sim,
                                                                      billed):
    """Auto-pay's answer is lost; the webhooks (once or twice, shuffled, with a partial
    refund) and the reconciler race in 20 orders: one charge, one payment, one refund."""
    from datetime import timedelta

    from backhaul.plugins.billing import autopay
    from backhaul.plugins.billing.api import save_payment_method

    gateway = registered("payment_gateways")["stripe"]
    client = stripe_app.test_client()
    for seed, (account_id, invoice) in enumerate(billed(20)):
        setup = gateway.start_setup(Customer(account_id), idempotency_key=f"s:{account_id}",
                                    method_ref="pm_card_visa")
        saved = gateway.finish_setup(setup.reference)
        save_payment_method(account_id, "stripe", saved.method_ref, saved.label)
        db.session.commit()
        start = len(sim.events)
        sim.drop_next("/v1/payment_intents")
        row = autopay.attempt(invoice.id)
        assert row.status == "undefined"
        refund = gateway.refund(Money(700, "USD"), sim.charges()[-1]["payment_intent"],
                                idempotency_key=f"ar:{account_id}")
        assert refund.status == PaymentStatus.PROCESSED
        rng = random.Random(1000 + seed)
        deliveries = [e for e in sim.events[start:] for _ in range(rng.choice((1, 2)))]
        rng.shuffle(deliveries)
        cut = rng.randrange(len(deliveries) + 1)  # the reconciler runs somewhere in between
        for i, event in enumerate(deliveries):
            if i == cut:
                autopay.reconcile(older_than=timedelta(0))
            headers, body = sim.signed(event)
            assert client.post("/billing/gateways/stripe/webhook", data=body,
                               headers=headers).status_code == 200
        autopay.reconcile(older_than=timedelta(0))
        state = _state(account_id, invoice.id)
        assert state == {
            "invoice": ("partially_paid", 5500, 4800), "balance": 700,
            "payments": [(5500, 700, "completed", "autopay")],
            "transactions": sorted([("invoice", 5500), ("payment", -5500), ("refund", 700)]),
        }, f"ordering {seed}"
    assert len(sim.charges()) == 20, "one charge per invoice"
