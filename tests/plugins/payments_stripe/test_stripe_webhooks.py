"""Stripe webhooks at billing's route: signature, replay window, unknown types, dedup."""
from __future__ import annotations

import time

import sqlalchemy as sa

from backhaul.plugins.billing.models import GatewayEvent, Payment
from backhaul.sdk import Customer, Money, db, registered

URL = "/billing/gateways/stripe/webhook"


def _paid_event(sim, account_id: int) -> dict:
    gateway = registered("payment_gateways")["stripe"]
    done = gateway.start_checkout(Money(2500, "USD"), Customer(account_id),
                                  idempotency_key=f"w:{account_id}", method_ref="pm_card_visa")
    return next(e for e in sim.events if e["type"] == "payment_intent.succeeded"
                and e["data"]["object"]["id"] == done.reference)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_stale_future_forged_and_unsigned_events_change_nothing(stripe_app, sim, billed):
    [(account_id, _invoice)] = billed(1)
    event = _paid_event(sim, account_id)
    client = stripe_app.test_client()
    now = int(time.time())
    for headers, body in (sim.signed(event, timestamp=now - 301),      # a replay
                          sim.signed(event, timestamp=now + 301),      # from the future
                          sim.signed(event, secret="whsec_someoneelse"),
                          ({}, sim.signed(event)[1])):
        answer = client.post(URL, data=body, headers=headers)
        assert answer.status_code == 400, answer.get_data(as_text=True)
    headers, body = sim.signed(event)
    tampered = body.replace(b'"amount": 2500', b'"amount": 9999')
    assert tampered != body
    assert client.post(URL, data=tampered, headers=headers).status_code == 400
    assert _count(Payment) == 0 and _count(GatewayEvent) == 0

    answer = client.post(URL, data=body, headers=headers)  # the genuine one, in the window
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "processed"
    assert client.post(URL, data=body, headers=headers).get_data(as_text=True) == "duplicate"
    within = sim.signed(event, timestamp=now - 250)
    assert client.post(URL, data=within[1], headers=within[0]).status_code == 200
    assert _count(Payment) == 1


def test_unknown_event_types_are_acknowledged_and_ignored(stripe_app, sim):
    event = {"id": "evt_unknown_1", "object": "event", "type": "customer.tax_id.created",
             "api_version": "2024-04-10", "created": int(time.time()), "livemode": False,
             "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": {"id": "txi_1", "object": "tax_id"}}}
    headers, body = sim.signed(event)
    answer = stripe_app.test_client().post(URL, data=body, headers=headers)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "ignored")
    assert _count(Payment) == 0


def test_webhooks_are_refused_when_no_account_is_configured(make_app, sim):
    app = make_app(plugins=["billing", "payments_stripe"])
    with app.app_context():
        headers, body = sim.signed({"id": "evt_x", "type": "payment_intent.succeeded",
                                    "data": {"object": {}}})
        assert app.test_client().post(URL, data=body, headers=headers).status_code == 400


def test_simulator_delivers_webhooks_to_a_live_server(stripe_app, sim, billed, make_live_server):
    """The simulator posts signed events over HTTP, as Stripe does."""
    [(account_id, invoice)] = billed(1)
    db.session.remove()
    live = make_live_server(stripe_app)
    sim.webhook_url = live.url(URL)
    gateway = registered("payment_gateways")["stripe"]
    done = gateway.start_checkout(Money(5500, "USD"), Customer(account_id),
                                  idempotency_key=f"live:{account_id}",
                                  method_ref="pm_card_visa",
                                  metadata={"invoice_id": invoice.id})
    deadline = time.time() + 10
    while time.time() < deadline and len(sim.delivered) < len(
            [e for e in sim.events if e["pending_webhooks"]]):
        time.sleep(0.05)
    assert sim.delivered and all(status == 200 for _id, status in sim.delivered), sim.delivered
    db.session.expire_all()
    payment = db.session.scalar(sa.select(Payment))
    assert (payment.amount, payment.reference) == (5500, done.reference)


def test_an_oversized_body_is_refused_unread(stripe_app, sim):
    headers, _body = sim.signed({"id": "evt_big"})
    big = b'{"id": "evt_big", "pad": "' + b"x" * (300 * 1024) + b'"}'
    answer = stripe_app.test_client().post(URL, data=big, headers=headers)
    assert answer.status_code == 413
    assert _count(GatewayEvent) == 0
