"""Billing in headless Chromium: preview and start a run, find the invoice, record a payment
from the account page's billing panel, see the invoice paid."""
from __future__ import annotations

from datetime import date

import pytest

from backhaul.plugins.billing import subscriptions as subs

pytestmark = pytest.mark.browser

PERMISSIONS = ["accounts.account.view", "billing.invoice.view", "billing.payment.record",
               "billing.run.view", "billing.run.manage"]


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def server(app, db, shop, make_account, make_live_server, staff_user):
    jane = make_account("Jane Doe")
    subs.subscribe(jane.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    user = staff_user(PERMISSIONS, name="Bea Biller", email="bea@isp.example")
    jane_id, email, password = jane.id, user.email, user.test_password
    db.session.remove()  # SQLite: no transaction of this thread may hold the server back
    return make_live_server(app), (email, password), jane_id


def test_run_then_payment_from_the_account_panel(server, page):
    live, user, jane_id = server
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing runs").click()
    page.get_by_label("Date").fill("2026-03-01")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#run-preview")).to_contain_text("1 account due")
    expect(page.locator("#run-preview")).to_contain_text("55.00 USD")
    page.get_by_role("button", name="Start the run of 2026-03-01").click()
    expect(page.locator("#run-status")).to_contain_text("1 invoiced")

    page.goto(live.url(f"/accounts/{jane_id}"))
    panel = page.locator("#panel-billing-account")
    expect(panel.locator("[data-billing-balance]")).to_have_text("55.00 USD")
    panel.get_by_label("Amount (USD)").fill("55.00")
    panel.get_by_label("Method").select_option("bank_transfer")
    panel.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status").first).to_contain_text("balance 0.00 USD")
    expect(page.locator("#panel-billing-account [data-billing-balance]")).to_have_text(
        "0.00 USD")
    page.locator("#panel-billing-account").get_by_role("link", name="INV-000001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("paid")
    expect(page.locator("#amount-due")).to_have_text("0.00 USD")
