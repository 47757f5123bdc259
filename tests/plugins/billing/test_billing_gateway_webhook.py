"""Billing's gateway webhook route (``POST /billing/gateways/<key>/webhook``), driven with the
example plugin's signed test gateway: a bad signature changes nothing, a signed event is
acted on once, each refund is recorded once, by its own id."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import accounts
from backhaul.plugins.billing.models import GatewayEvent, Payment
from backhaul.sdk import registered
from backhaul.sdk.instances import save_instance

SECRET = "whsec-example-route"


@pytest.fixture
def app(billing_app):
    application = billing_app(plugins=("billing", "example"))
    with application.app_context():
        save_instance("payment_gateways", "example.fake", owner="example", name="Fake",
                      settings={"webhook_secret": SECRET})
        from backhaul.sdk import db

        db.session.commit()
        yield application


def _post(app, event: dict, sign=True):
    body = json.dumps({"currency": "USD", **event}).encode()
    gateway = registered("payment_gateways")["example.fake"]
    headers = {"X-Fake-Signature": gateway.sign(body) if sign else "0" * 64,
               "Content-Type": "application/json"}
    return app.test_client().post("/billing/gateways/example.fake/webhook", data=body,
                                  headers=headers)


def test_bad_signature_is_refused_and_changes_nothing(app, db, make_account):
    jane = make_account()
    db.session.commit()
    response = _post(app, {"id": "evt_1", "type": "x", "outcome": "succeeded", "key": "pi_1",
                           "reference": "pi_1", "amount": 500, "account_id": jane.id},
                     sign=False)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(GatewayEvent.id))) == 0


def test_unknown_gateway_is_404(app):
    response = app.test_client().post("/billing/gateways/nope/webhook", data=b"{}")
    assert response.status_code == 404


def test_signed_payment_recorded_once_then_refund_converges(app, db, make_account):
    jane = make_account()
    db.session.commit()
    paid = {"type": "payment.succeeded", "outcome": "succeeded", "key": "pi_9",
            "reference": "pi_9", "amount": 5000, "account_id": jane.id}
    assert _post(app, {"id": "evt_a", **paid}).status_code == 200
    assert _post(app, {"id": "evt_a", **paid}).get_data(as_text=True) == "duplicate"
    assert _post(app, {"id": "evt_b", **paid}).status_code == 200  # same payment, new event
    assert accounts.balance(jane.id).amount == -5000
    refund = {"type": "refund.created", "outcome": "refunded", "key": "pi_9",
              "reference": "pi_9", "amount": 5000, "account_id": jane.id}
    assert _post(app, {"id": "evt_r2", **refund, "refund_id": "re_2", "refunded": 500}
                 ).status_code == 200
    assert _post(app, {"id": "evt_r1", **refund, "refund_id": "re_1", "refunded": 1500}
                 ).status_code == 200
    again = _post(app, {"id": "evt_r1b", **refund, "refund_id": "re_1", "refunded": 1500})
    assert again.get_data(as_text=True) == "refund already recorded"
    payment = db.session.scalar(sa.select(Payment))
    assert (payment.amount, payment.refunded_amount) == (5000, 2000)
    assert accounts.balance(jane.id).amount == -3000
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
