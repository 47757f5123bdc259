"""A building's month, as the office manager does it in headless Chromium with no GraphQL:
a building and 12 serviceable units at once, a tenant with a separate financial contact, an
internet service sold at an overridden price plus parking rent and an installation charge,
the billing run, the PDF, a partial payment, the move-out (run by the scheduler) and the next
run, which must bill the moved-out tenant nothing."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.browser

PERMISSIONS = [
    "accounts.account.view", "accounts.account.edit", "accounts.address.view",
    "accounts.address.edit", "accounts.note.edit", "accounts.event.manage",
    "accounts.tenant.move",
    "billing.invoice.view", "billing.invoice.manage", "billing.invoice.void",
    "billing.credit_note.create", "billing.payment.record", "billing.payment.reverse",
    "billing.subscription.manage", "billing.settings.manage", "billing.catalogue.view",
    "billing.catalogue.manage", "billing.run.view", "billing.run.manage",
    "billing.delinquency.view"]
SETTINGS = {"company_name": "Maple Fibre Co-op",
            "company_address": ["1 Main Street", "Springfield IL 62701"],
            "company_tax_number": "US-12-3456789",
            "payment_instructions": ["Bank transfer to Maple Credit Union",
                                     "Account 000123456"]}


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def server(make_app, make_live_server, staff_user):
    app = make_app(plugins=["billing"], plugin_settings={"billing": SETTINGS})
    with app.app_context():
        user = staff_user(PERMISSIONS, name="Olivia Office", email="olivia@isp.example")
        yield make_live_server(app), user


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def flash(page):
    return page.locator(".flashes")


def new_service(page, kind: str, name: str, price: str, **params: str) -> None:
    nav(page, "Catalogue")
    page.locator(f'a[data-type="{kind}"]').first.click()
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Price (USD)").fill(price)
    for label, value in params.items():
        page.get_by_role("spinbutton", name=label, exact=True).fill(value)
    page.get_by_role("button", name="Create service").click()
    expect(flash(page)).to_contain_text(f"Service '{name}' created.")


def test_a_buildings_month_in_the_browser(server, page):  # noqa: PLR0915  (one story)
    live, user = server
    today = date.today()
    first = today.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    # a building and 12 serviceable units at once
    nav(page, "Buildings")
    page.get_by_role("link", name="New building").click()
    page.get_by_label("Building name").fill("Résidence Les Érables")
    page.get_by_label("Street").fill("12 Maple Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Region / state").fill("IL")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Unit numbers").fill("101-112")
    page.get_by_label("Serviceable", exact=True).check()
    page.get_by_label("Technology").select_option("fiber")
    page.get_by_role("button", name="Generate units").click()
    expect(page.get_by_text("12 unit(s) created")).to_be_visible()
    expect(page.locator("#units tbody tr")).to_have_count(12)
    expect(page.locator("#units")).not_to_contain_text("Not serviceable")

    # the tenant, with a separate financial contact (her landlord pays)
    page.locator('tr[data-unit="104"]').get_by_role("link", name="Onboard tenant").click()
    page.get_by_label("Tenant name").fill("Jane Doe")
    page.get_by_label("E-mail").fill("jane@example.com")
    page.get_by_role("button", name="Onboard tenant").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jane Doe")
    account_url = page.url
    page.locator("#contacts summary").click()
    contact_form = page.locator("#contacts form").last
    contact_form.get_by_label("Name").fill("Hélène Gagnon")
    contact_form.get_by_label("E-mail").fill("helene@landlord.example")
    contact_form.get_by_label("Financial contact", exact=False).check()
    contact_form.get_by_role("button", name="Add contact").click()
    jane_entry = page.locator("#contacts li").filter(has_text="Jane Doe")
    jane_entry.get_by_role("button", name="Not financial").click()
    expect(page.locator("#contacts li").filter(has_text="Hélène Gagnon")).to_contain_text(
        "Financial")
    expect(page.locator("#contacts li").filter(has_text="Jane Doe")).not_to_contain_text(
        "Financial")

    # the catalogue: internet (its speeds are fields of its type), parking, installation
    new_service(page, "data", "Fiber 300", "60.00", **{"Download (Mbps)": "300",
                                                        "Upload (Mbps)": "50"})
    new_service(page, "recurring", "Parking", "25.00")
    new_service(page, "one_time", "Installation", "99.00")

    # sell: internet at 45.00 instead of 60.00, parking space 12, the installation
    page.goto(account_url)
    page.locator("#billing-open").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jane Doe")
    sell = page.locator("#subscribe")
    sell.get_by_label("Service or package").select_option(label="Fiber 300 — 60.00 USD monthly")
    sell.get_by_label("Price override", exact=False).fill("45.00")
    sell.get_by_label("Starts on").fill(first.isoformat())
    sell.get_by_role("button", name="Subscribe").click()
    expect(flash(page)).to_contain_text("Subscribed to Fiber 300")
    sell = page.locator("#subscribe")
    sell.get_by_label("Service or package").select_option(label="Parking — 25.00 USD monthly")
    sell.get_by_label("Starts on").fill(first.isoformat())
    sell.get_by_label("Note on the invoice line", exact=False).fill("space 12")
    sell.get_by_role("button", name="Subscribe").click()
    expect(flash(page)).to_contain_text("Subscribed to Parking")
    charge = page.locator("#one-time-charge")
    charge.get_by_label("From the catalogue").select_option(label="Installation — 99.00 USD")
    charge.get_by_label("Date").fill(first.isoformat())
    charge.get_by_role("button", name="Add charge").click()
    expect(flash(page)).to_contain_text("Charge 'Installation' added.")
    subs = page.locator("#account-subscriptions")
    expect(subs).to_contain_text("45.00 USD")
    expect(subs).to_contain_text("override")
    expect(subs).to_contain_text("space 12")

    # run billing for the month (preview first, filtered to the account)
    nav(page, "Billing runs")
    page.get_by_label("Date").fill(first.isoformat())
    page.get_by_label("Account (number or name)").fill("Jane")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#run-preview")
    expect(preview).to_contain_text("Jane Doe")
    expect(preview).to_contain_text("169.00 USD")  # 45 + 25 + 99, no tax class
    page.get_by_role("button", name=f"Start the run of {first.isoformat()}").click()
    expect(page.locator("#run-status")).to_contain_text("1 invoiced")
    invoices = page.locator("#run-invoices")
    expect(invoices).to_contain_text("Jane Doe")
    invoices.get_by_role("link", name="INV-000001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-000001")
    expect(page.locator(".page-lead")).to_contain_text("Jane Doe")

    # the PDF: addressed to the financial contact, with the ISP's details and how to pay
    pdf_href = page.get_by_role("link", name="PDF").get_attribute("href")
    response = page.request.get(live.url(pdf_href))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text() for p in PdfReader(
        io.BytesIO(response.body())).pages).split())
    for expected in ("Maple Fibre Co-op", "Tax number: US-12-3456789", "Bill to",
                     "Hélène Gagnon", "helene@landlord.example", "Installation",
                     "Parking - space 12", "Bank transfer to Maple Credit Union",
                     "Payment reference: INV-000001", "169.00 USD"):
        assert expected in text, (expected, text)

    # a partial payment
    page.goto(account_url)
    page.locator("#billing-open").click()
    pay = page.locator("#record-payment")
    pay.get_by_label("Amount (USD)").fill("100.00")
    pay.get_by_label("Method").select_option("cheque")
    pay.get_by_label("Reference", exact=False).fill("cheque 1042")
    pay.get_by_role("button", name="Record payment").click()
    expect(flash(page)).to_contain_text("balance 69.00 USD")
    expect(page.locator("#account-invoices")).to_contain_text("partially paid")
    balance_before = page.locator("[data-billing-balance]").first.inner_text()
    assert balance_before == "69.00 USD"

    # the move-out, today; the scheduler carries it out
    page.goto(account_url)
    page.get_by_role("link", name="Schedule move-out").click()
    page.get_by_label("Move-out date").fill(today.isoformat())
    page.get_by_role("button", name="Schedule move-out").click()
    expect(page.locator("#move-out-notice")).to_contain_text("pending")
    from backhaul.core import scheduler

    scheduler.tick(live.app)
    page.reload()
    expect(page.locator(".page-lead")).to_contain_text("Moved out")

    # the next run bills the moved-out tenant nothing and credits the unused days
    check_nothing_billed_after_move_out(page, account_url, next_first, balance_before)


def check_nothing_billed_after_move_out(page, account_url, next_first, balance_before):
    nav(page, "Billing runs")
    page.get_by_label("Date").fill(next_first.isoformat())
    page.get_by_label("Account (number or name)").fill("Jane")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#run-preview")
    month = next_first.strftime("%d %b %Y")
    # nothing of the next month is charged ...
    expect(preview).not_to_contain_text(f"Fiber 300, {month}")
    expect(preview).not_to_contain_text(f"Parking - space 12, {month}")
    # ... and the unused days already billed are credited (move_out_credit: prorate)
    expect(preview).to_contain_text("Credit: Fiber 300, unused")
    expect(preview).to_contain_text("Credit: Parking - space 12, unused")
    page.get_by_role("button", name=f"Start the run of {next_first.isoformat()}").click()
    expect(page.locator("#run-status")).to_contain_text("1 invoiced")
    page.goto(account_url)
    page.locator("#billing-open").click()
    subscriptions = page.locator("#account-subscriptions")
    expect(subscriptions).not_to_contain_text("open-ended")
    balance_after = page.locator("[data-billing-balance]").first.inner_text()
    # the unused days were credited: the tenant owes less than before the move-out
    assert float(balance_after.split()[0]) < float(balance_before.split()[0])
