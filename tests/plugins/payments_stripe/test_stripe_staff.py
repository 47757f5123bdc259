"""Staff side: the Stripe account (page and ``stripeSaveAccount``: validated, secrets sealed
and never shown again) and refunds from the payment's page (and ``billingRefundPayment``)."""
from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from backhaul.core.instances import ExtensionInstance
from backhaul.plugins.billing import accounts
from backhaul.plugins.billing.models import Payment
from backhaul.sdk import Customer, Money, db, registered
from backhaul.sdk.testing.auth import csrf_token_for, fast_sign_in

SK2, WH2 = "sk_test_rotated000002", "whsec_rotated000002"


@pytest.fixture
def staff(stripe_app, staff_user):
    def factory(*permissions):
        client = stripe_app.test_client()
        fast_sign_in(client, staff_user(list(permissions)))
        return client
    return factory


def gql(client, query, variables=None):
    answer = client.post("/graphql", json={"query": query, "variables": variables or {}},
                         headers={"X-CSRFToken": csrf_token_for(client)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


SAVE = """mutation($input: StripeAccountInput!) { stripeSaveAccount(input: $input) {
  ok errors { field messages } account { publishableKey hasSecretKey hasWebhookSecret } } }"""


def test_account_page_never_shows_secrets_and_keeps_them_sealed(stripe_app, staff, sim):
    client = staff("payments_stripe.account.manage")
    page = client.get("/stripe/account").get_data(as_text=True)
    assert "pk_test_backhaul0001" in page
    assert "sk_test_backhaul0001" not in page and "whsec_backhaul0001" not in page
    assert "/billing/gateways/stripe/webhook" in page
    row = db.session.scalar(sa.select(ExtensionInstance))
    stored = f"{row.settings} {row.secrets}"
    assert "sk_test_" not in stored and "whsec_" not in stored, "secrets encrypted at rest"
    # blank secrets keep their values; a new secret replaces one
    form = {"csrf_token": csrf_token_for(client), "enabled": "y",
            "settings.publishable_key": "pk_test_backhaul0001", "settings.secret_key": "",
            "settings.webhook_secret": WH2, "settings.api_base": sim.url}
    assert client.post("/stripe/account", data=form).status_code == 302
    db.session.expire_all()
    settings = registered("payment_gateways")["stripe"].settings()
    assert settings["secret_key"] == "sk_test_backhaul0001"
    assert settings["webhook_secret"] == WH2


def test_account_page_field_errors(stripe_app, staff, sim):
    client = staff("payments_stripe.account.manage")
    form = {"csrf_token": csrf_token_for(client), "enabled": "y",
            "settings.publishable_key": "pk_live_backhaul0001", "settings.secret_key": "nope",
            "settings.webhook_secret": "", "settings.api_base": sim.url}
    answer = client.post("/stripe/account", data=form)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "a secret key starts with sk_test_" in text
    assert 'value="nope"' not in text, "a typed secret is not echoed back"
    db.session.expire_all()
    assert registered("payment_gateways")["stripe"].settings()["secret_key"] == \
        "sk_test_backhaul0001", "nothing changed"


def test_save_account_mutation(stripe_app, staff, caplog):
    client = staff("payments_stripe.account.manage")
    caplog.set_level(logging.DEBUG)
    bad = gql(client, SAVE, {"input": {"publishableKey": "pk_test_backhaul0001",
                                       "secretKey": "sk_live_mixedmode0001"}})
    result = bad["data"]["stripeSaveAccount"]
    assert not result["ok"]
    assert {e["field"] for e in result["errors"]} == {"secretKey"}
    good = gql(client, SAVE, {"input": {"publishableKey": "pk_test_backhaul0001",
                                        "secretKey": SK2, "webhookSecret": "unchanged"}})
    result = good["data"]["stripeSaveAccount"]
    assert result["ok"], result
    assert result["account"] == {"publishableKey": "pk_test_backhaul0001",
                                 "hasSecretKey": True, "hasWebhookSecret": True}
    db.session.expire_all()
    settings = registered("payment_gateways")["stripe"].settings()
    assert (settings["secret_key"], settings["webhook_secret"]) == (SK2, "whsec_backhaul0001")
    assert SK2 not in caplog.text and "whsec_backhaul0001" not in caplog.text
    audit = " ".join(str(r) for r in db.session.execute(sa.text(
        "SELECT * FROM audit_entry")).all())
    assert "core_extension_instance" in audit or "extension" in audit.lower(), \
        "the change is audited"
    assert SK2 not in audit, "the audit trail records that a secret changed, not its value"


def test_account_needs_its_permission(stripe_app, staff):
    client = staff("billing.invoice.view")
    assert client.get("/stripe/account").status_code == 403
    denied = gql(client, SAVE, {"input": {"publishableKey": "pk_test_x0000000000"}})
    assert denied.get("errors")


# ----------------------------------------------------------------------------- refunds
def _card_payment(sim, account_id: int, invoice_id: int) -> Payment:
    """The tenant pays the invoice at checkout; Stripe's webhooks record it."""
    gateway = registered("payment_gateways")["stripe"]
    done = gateway.start_checkout(Money(5500, "USD"), Customer(account_id),
                                  idempotency_key=f"pay:{account_id}",
                                  method_ref="pm_card_visa",
                                  metadata={"invoice_id": invoice_id})
    deliver(sim)
    return db.session.scalar(sa.select(Payment).where(Payment.reference == done.reference))


def deliver(sim, client=None):
    from flask import current_app

    client = client or current_app.test_client()
    for event in sim.events:
        headers, body = sim.signed(event)
        assert client.post("/billing/gateways/stripe/webhook", data=body,
                           headers=headers).status_code == 200


def test_partial_then_full_refund_from_the_payment_page(stripe_app, staff, sim, billed):
    [(account_id, invoice)] = billed(1)
    payment = _card_payment(sim, account_id, invoice.id)
    client = staff("billing.invoice.view", "billing.payment.reverse")
    page = client.get(f"/billing/payments/{payment.id}").get_data(as_text=True)
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    form = {"csrf_token": csrf_token_for(client), "amount": "20.00", "key": key}
    assert client.post(f"/billing/payments/{payment.id}/refund", data=form).status_code == 302
    # a double submit of the same form refunds once
    assert client.post(f"/billing/payments/{payment.id}/refund", data=form).status_code == 302
    charge = sim.charges()[0]
    assert charge["amount_refunded"] == 2000
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).refunded_amount == 2000
    deliver(sim)  # the refund's own webhook (and every other event, again) changes nothing
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).refunded_amount == 2000
    assert accounts.balance(account_id).amount == 2000

    over = {"csrf_token": csrf_token_for(client), "amount": "40.00", "key": "k-over"}
    client.post(f"/billing/payments/{payment.id}/refund", data=over)
    assert sim.charges()[0]["amount_refunded"] == 2000, "refused before reaching Stripe"
    flashed = client.get(f"/billing/payments/{payment.id}").get_data(as_text=True)
    assert "amount: give an amount between 0 and" in flashed

    rest = gql(client, """mutation($id: ID!) { billingRefundPayment(id: $id, amount: "35.00",
      key: "k-rest") { ok errors { field messages } payment { refunded { amount } }
      balance { amount } } }""", {"id": str(payment.id)})["data"]["billingRefundPayment"]
    assert rest["ok"], rest
    assert rest["payment"]["refunded"]["amount"] == 5500
    assert sim.charges()[0]["amount_refunded"] == 5500 and sim.charges()[0]["refunded"]
    db.session.expire_all()
    assert db.session.get(type(invoice), invoice.id).status == "finalized"
    assert accounts.balance(account_id).amount == 5500


def test_refund_needs_the_permission(stripe_app, staff, sim, billed):
    [(account_id, invoice)] = billed(1)
    payment = _card_payment(sim, account_id, invoice.id)
    client = staff("billing.invoice.view")
    form = {"csrf_token": csrf_token_for(client), "amount": "1.00", "key": "k"}
    assert client.post(f"/billing/payments/{payment.id}/refund", data=form).status_code == 403
    assert sim.charges()[0]["amount_refunded"] == 0
