"""In headless Chromium: staff configure the Stripe account and refund part of a card
payment from its page; the customer's bank asks for 3-D Secure on the simulator's page and
the payment completes. Screenshots go to ``test-artifacts/stripe-*.png``."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing.models import Payment
from backhaul.sdk import Customer, Money, PaymentStatus, db, registered

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("BACKHAUL_TEST_ARTIFACTS", "test-artifacts"))


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def _sign_in(page, live, user):
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()


def _deliver(app, sim):
    client = app.test_client()
    for event in sim.events:
        headers, body = sim.signed(event)
        assert client.post("/billing/gateways/stripe/webhook", data=body,
                           headers=headers).status_code == 200


def test_staff_account_page_and_refund(stripe_app, sim, billed, staff_user, make_live_server,
                                       page):
    SHOTS.mkdir(exist_ok=True)
    [(account_id, invoice)] = billed(1)
    gateway = registered("payment_gateways")["stripe"]
    done = gateway.start_checkout(Money(5500, "USD"), Customer(account_id),
                                  idempotency_key="b:1", method_ref="pm_card_visa",
                                  metadata={"invoice_id": invoice.id})
    _deliver(stripe_app, sim)
    payment_id = db.session.scalar(sa.select(Payment.id).where(
        Payment.reference == done.reference))
    user = staff_user(["payments_stripe.account.manage", "billing.invoice.view",
                       "billing.payment.reverse", "accounts.account.view"])
    user = (user.email, user.test_password)
    db.session.remove()
    live = make_live_server(stripe_app)
    _sign_in(page, live, user)

    page.goto(live.url("/stripe/account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stripe account")
    expect(page.locator("#webhook-url")).to_contain_text("/billing/gateways/stripe/webhook")
    secret = page.locator("input[name='settings.secret_key']")
    expect(secret).to_have_value("")
    expect(secret).to_have_attribute("placeholder", "unchanged")
    page.screenshot(path=str(SHOTS / "stripe-account.png"), full_page=True)
    secret.fill("not-a-key")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("a secret key starts with sk_test_")
    page.screenshot(path=str(SHOTS / "stripe-account-error.png"), full_page=True)

    page.goto(live.url(f"/billing/payments/{payment_id}"))
    expect(page.locator("#payment-details")).to_contain_text(done.reference)
    page.get_by_label("Amount to refund").fill("12.50")
    page.get_by_role("button", name="Refund through Stripe").click()
    expect(page.locator("#payment-refunded")).to_have_text("12.50 USD")
    expect(page.locator("#payment-refunds")).to_contain_text("12.50 USD")
    page.screenshot(path=str(SHOTS / "stripe-payment-refund.png"), full_page=True)
    assert sim.charges()[0]["amount_refunded"] == 1250


def test_three_d_secure_page_completes_the_payment(stripe_app, sim, billed, page):
    """The redirect a checkout returns is a page a person (here Chromium) completes; the
    browser comes back to the return URL and the webhook records the payment."""
    SHOTS.mkdir(exist_ok=True)
    [(account_id, invoice)] = billed(1)
    gateway = registered("payment_gateways")["stripe"]
    started = gateway.start_checkout(Money(5500, "USD"), Customer(account_id),
                                     idempotency_key="3ds:1",
                                     method_ref="pm_card_authenticationRequired",
                                     return_url=f"{sim.url}/_sim/done",
                                     metadata={"invoice_id": invoice.id})
    assert started.status == PaymentStatus.PENDING and started.requires_action
    page.goto(started.redirect_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("3D Secure")
    page.screenshot(path=str(SHOTS / "stripe-3ds.png"), full_page=True)
    with page.expect_response(lambda r: "/_sim/done" in r.url):
        page.get_by_role("button", name="Complete authentication").click()
    assert "redirect_status=succeeded" in page.url
    assert gateway.fetch(started.reference).status == PaymentStatus.PROCESSED
    _deliver(stripe_app, sim)
    db.session.expire_all()
    db.session.refresh(invoice)
    assert invoice.status == "paid"
