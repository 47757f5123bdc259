"""The customer portal in headless Chromium against the Stripe simulator
(``sdk/testing/stripe_sim.py``) and the real ``stripe`` client behind the Stripe gateway.

The required end-to-end test: a delinquent tenant signs in, pays the overdue invoice with a
Stripe test card typed into the page (the page's script creates the payment method at
"Stripe" with the publishable key; the card number never reaches Backhaul), Stripe's signed
``payment_intent.succeeded`` webhook arrives at billing's route, the invoice is paid and the
account is restored (not delinquent) — with exactly one charge at Stripe and one payment in
the ledger. A second test takes the 3-D Secure path through the simulator's bank page.
Screenshots of each page land in ``test-artifacts/portal/`` for people to look at.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from portal_helpers import PASSWORD, make_tenant

from backhaul.sdk import db
from backhaul.sdk.testing.stripe_sim import StripeSimulator

pytestmark = pytest.mark.browser

PK, SK, WHSEC = "pk_test_portal0001", "sk_test_portal0001", "whsec_portal0001"
SHOTS = Path(os.environ.get("BACKHAUL_TEST_ARTIFACTS", "test-artifacts")) / "portal"


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def sim():
    with StripeSimulator(secret_key=SK, publishable_key=PK, webhook_secret=WHSEC) as server:
        yield server


@pytest.fixture
def stripe_portal(portal_app, sim, make_live_server):
    from backhaul.plugins.portal import branding
    from backhaul.sdk.instances import save_instance

    app = portal_app(plugins=["notifications", "billing", "portal", "payments_stripe"])
    with app.app_context():
        save_instance("payment_gateways", "stripe", owner="payments_stripe",
                      name="Stripe (test)", settings={
                          "publishable_key": PK, "secret_key": SK, "webhook_secret": WHSEC,
                          "api_base": sim.url})
        branding.save({"name": "Maple Fibre", "tagline": "Fibre for Maple Court",
                       "primary_colour": "#0a6e4f", "accent_colour": "#f2a900",
                       "support_email": "help@maplefibre.example",
                       "support_phone": "+1 555 0100"})
        db.session.commit()
        tenant = make_tenant()
        db.session.remove()
        live = make_live_server(app)
        sim.webhook_url = live.url("/billing/gateways/stripe/webhook")
        yield app, live, tenant


def _sign_in(page, live, email="tina@example.net"):
    page.goto(live.url("/portal/login"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.remove()
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def _state(tenant):
    from backhaul.plugins.billing.models import Invoice, Payment
    from backhaul.sdk.accounts import get_account

    db.session.remove()
    invoice = db.session.get(Invoice, tenant.invoice_id)
    payments = db.session.scalars(sa.select(Payment).where(
        Payment.account_id == tenant.account.id)).all()
    return invoice, payments, get_account(tenant.account.id).status.key


def test_delinquent_tenant_pays_the_overdue_invoice_with_a_test_card(stripe_portal, sim, page):
    from backhaul.plugins.billing.models import GatewayEvent

    app, live, tenant = stripe_portal
    with app.app_context():
        invoice, payments, status = _state(tenant)
        due = invoice.amount_due
        assert status == "delinquent" and payments == []

        page.goto(live.url("/portal/"))  # signed out: the portal's own sign-in page
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to your account")
        shot(page, "1-sign-in")
        _sign_in(page, live)
        expect(page.locator("#account-status")).to_have_text("Delinquent")
        expect(page.locator("#standing")).to_contain_text("suspended")
        expect(page.locator("#balance")).to_have_text(due.format())
        shot(page, "2-overview-delinquent")

        page.locator("#open-invoices").get_by_role("link", name="Pay").click()
        expect(page.locator("#pay-amount")).to_have_text(due.format())
        page.get_by_label("Card number").fill("4242 4242 4242 4242")
        page.get_by_label("Expiry (MM/YY)").fill("12/34")
        page.get_by_label("Security code").fill("123")
        shot(page, "3-pay")
        page.locator("#pay-submit").click()
        expect(page.locator("#payment-result")).to_have_attribute("data-status", "processed")
        expect(page.get_by_role("heading", level=1)).to_contain_text("payment received")
        shot(page, "4-paid")

        # the card number went to "Stripe" from the browser, never to Backhaul
        assert ("POST", "/v1/payment_methods") in sim.requests
        # Stripe's signed webhook arrives at billing's route and is acted on
        event = _wait_for(lambda: db.session.scalar(sa.select(GatewayEvent).where(
            GatewayEvent.gateway == "stripe", GatewayEvent.type == "payment_intent.succeeded")))
        assert event.result in ("processed", "recorded", "duplicate") or event.result
        assert any(status == 200 for _, status in sim.delivered)

        invoice, payments, status = _state(tenant)
        assert invoice.status == "paid" and invoice.amount_due.amount == 0
        assert status == "active"  # restored
        assert [p.amount for p in payments] == [due.amount]  # one payment in the ledger
        assert len(sim.charges()) == 1 and sim.charges()[0]["amount"] == due.amount

        page.get_by_role("link", name="Back to your account").click()
        expect(page.locator("#account-status")).to_have_text("Active")
        expect(page.locator("#standing")).to_have_count(0)
        shot(page, "5-overview-restored")
        page.get_by_role("link", name="Invoices").first.click()
        shot(page, "6-invoices")
        page.locator("#invoices").get_by_role("link", name=invoice.display_number).click()
        expect(page.locator("#amount-due")).to_have_text(f"0.00 {due.currency}")
        shot(page, "7-invoice")
        page.get_by_role("link", name="Payments & charges").click()
        shot(page, "8-transactions")
        page.get_by_role("link", name="Card & auto-pay").click()
        shot(page, "9-card")


def test_a_card_needing_3d_secure_goes_through_the_bank_page(stripe_portal, sim, page):
    app, live, tenant = stripe_portal
    with app.app_context():
        invoice, _, _ = _state(tenant)
        _sign_in(page, live)
        page.goto(live.url(f"/portal/pay?invoice={invoice.id}"))
        page.get_by_label("Card number").fill("4000 0027 6000 3184")
        page.get_by_label("Expiry (MM/YY)").fill("12/34")
        page.get_by_label("Security code").fill("123")
        page.locator("#pay-submit").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Confirm the payment")
        shot(page, "10-bank-confirm")
        page.locator("#bank-confirm").click()
        page.get_by_role("button", name="Complete authentication").click()
        expect(page.locator("#payment-result")).to_have_attribute("data-status", "processed")
        invoice, payments, status = _state(tenant)
        assert invoice.status == "paid" and status == "active" and len(payments) == 1


def test_a_declined_test_card_is_explained_and_changes_no_money(stripe_portal, sim, page):
    app, live, tenant = stripe_portal
    with app.app_context():
        _sign_in(page, live)
        page.goto(live.url(f"/portal/pay?invoice={tenant.invoice_id}"))
        page.get_by_label("Card number").fill("4000 0000 0000 0002")
        page.get_by_label("Expiry (MM/YY)").fill("12/34")
        page.get_by_label("Security code").fill("123")
        page.locator("#pay-submit").click()
        expect(page.locator("#payment-result")).to_have_attribute("data-status", "error")
        expect(page.locator("#payment-message")).to_contain_text("declined")
        shot(page, "11-declined")
        invoice, payments, status = _state(tenant)
        assert payments == [] and status == "delinquent" and invoice.status != "paid"
        # a mistyped number is refused in the page, before anything is sent
        page.goto(live.url(f"/portal/pay?invoice={tenant.invoice_id}"))
        page.get_by_label("Card number").fill("4242")
        page.locator("#pay-submit").click()
        expect(page.locator("#card-error")).to_contain_text("card number")


def test_save_a_card_at_stripe_and_turn_auto_pay_on(stripe_portal, sim, page):
    from backhaul.plugins.billing.models import BillingAccount, PaymentMethod

    app, live, tenant = stripe_portal
    with app.app_context():
        _sign_in(page, live)
        page.get_by_role("link", name="Card & auto-pay").click()
        page.get_by_label("Card number").fill("5555 5555 5555 4444")
        page.get_by_label("Expiry (MM/YY)").fill("10/33")
        page.get_by_label("Security code").fill("321")
        page.locator("#card-submit").click()
        expect(page.get_by_role("status").first).to_contain_text("Mastercard ending 4444")
        page.locator("#autopay-on").click()
        expect(page.get_by_role("status").first).to_contain_text("Automatic payment is on")
        shot(page, "12-autopay-on")
        db.session.remove()
        [method] = db.session.scalars(sa.select(PaymentMethod).where(
            PaymentMethod.account_id == tenant.account.id)).all()
        assert method.gateway == "stripe" and method.method_ref.startswith("pm_")
        assert method.label == "Mastercard ending 4444"
        assert db.session.get(BillingAccount, tenant.account.id).autopay is True
        # the saved card is offered for the overdue invoice, and pays it off-page
        page.goto(live.url(f"/portal/pay?invoice={tenant.invoice_id}"))
        expect(page.get_by_label("Mastercard ending 4444 (saved)")).to_be_checked()
        page.locator("#pay-submit").click()
        expect(page.locator("#payment-result")).to_have_attribute("data-status", "processed")
        invoice, payments, status = _state(tenant)
        assert invoice.status == "paid" and status == "active" and len(payments) == 1


def _logo_png(path: Path) -> Path:
    image = pytest.importorskip("PIL.Image")
    draw_mod = pytest.importorskip("PIL.ImageDraw")
    img = image.new("RGB", (120, 120), "#ffffff")
    draw = draw_mod.Draw(img)
    draw.ellipse((10, 10, 110, 110), fill="#7b2cbf")
    draw.rectangle((52, 25, 68, 95), fill="#ffd166")
    draw.rectangle((30, 52, 90, 68), fill="#ffd166")
    img.save(path)
    return path


def test_staff_brand_the_portal_in_the_browser(portal_app, make_live_server, page, staff_user,
                                              tmp_path):
    app = portal_app()
    with app.app_context():
        user = staff_user(["portal.settings.manage", "accounts.account.view"],
                          name="Ada Admin", email="ada@isp.example")
        email, password = user.email, user.test_password
        db.session.commit()
        db.session.remove()
        live = make_live_server(app)
        page.goto(live.url("/login"))
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Customer portal").click()
        page.get_by_label("Company name").fill("Harbour Net")
        page.get_by_label("Tagline").fill("Gigabit for Harbour Towers")
        page.get_by_label("Main colour").fill("#5a189a")
        page.get_by_label("Accent colour").fill("#ffd166")
        page.get_by_label("Logo").set_input_files(str(_logo_png(tmp_path / "logo.png")))
        page.get_by_label("Phone").fill("+1 555 0199")
        page.get_by_label("Main colour").fill("purple")  # refused beside the field
        page.get_by_role("button", name="Save branding").click()
        expect(page.locator("#branding-form")).to_contain_text("Use a colour like #0b5cad.")
        page.get_by_label("Main colour").fill("#5a189a")
        page.get_by_label("Logo").set_input_files(str(_logo_png(tmp_path / "logo.png")))
        page.get_by_role("button", name="Save branding").click()
        expect(page.get_by_role("status").first).to_contain_text("branding is saved")
        shot(page, "13-staff-branding")
        page.goto(live.url("/portal/login"))
        expect(page.locator(".p-brand-name")).to_have_text("Harbour Net")
        logo = page.locator("img.p-logo")
        expect(logo).to_be_visible()
        assert page.evaluate("document.querySelector('img.p-logo').naturalWidth") == 120
        header = page.evaluate("getComputedStyle(document.querySelector('.p-header'))"
                               ".backgroundColor")
        assert header == "rgb(90, 24, 154)"  # #5a189a, through /portal/brand.css
        shot(page, "14-branded-sign-in")
