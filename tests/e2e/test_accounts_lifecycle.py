"""The MDU tenant lifecycle in headless Chromium: pre-qualify a building, onboard a tenant at
a unit, pin a note, schedule the move-out (run by the scheduler), onboard the next tenant at
the same unit — with the first tenant's history intact."""
from __future__ import annotations

import pytest

from backhaul.core.db import utcnow

pytestmark = pytest.mark.browser

PERMISSIONS = ["accounts.account.view", "accounts.account.edit", "accounts.address.view",
               "accounts.address.edit", "accounts.address.import", "accounts.note.edit",
               "accounts.call.edit", "accounts.event.manage", "accounts.tenant.move"]


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def server(make_app, make_live_server, staff_user):
    app = make_app(plugins=[])
    with app.app_context():
        user = staff_user(PERMISSIONS, name="Olivia Operator", email="olivia@isp.example")
        yield make_live_server(app), user


def sign_in(page, server, user):
    page.goto(server.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def onboard(page, name: str, email: str, phone: str):
    page.get_by_label("Tenant name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Phone").fill(phone)
    page.get_by_role("button", name="Onboard tenant").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_tenant_lifecycle_in_the_browser(server, page):
    live, user = server
    sign_in(page, live, user)

    # pre-qualify a building and its units
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buildings").click()
    page.get_by_role("link", name="New building").click()
    page.get_by_label("Building name").fill("Maple Court")
    page.get_by_label("Street").fill("12 Maple Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Region / state").fill("IL")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Maple Court", level=1)).to_be_visible()
    page.get_by_label("Unit numbers").fill("101-124")
    page.get_by_label("Serviceable", exact=True).check()
    page.get_by_label("Technology").select_option("fiber")
    page.get_by_label("Max download (Mbps)").fill("1000")
    page.get_by_role("button", name="Generate units").click()
    expect(page.get_by_text("24 unit(s) created")).to_be_visible()
    unit = page.locator('tr[data-unit="101"]')
    expect(unit).to_contain_text("Serviceable")

    # onboard a tenant at unit 101
    unit.get_by_role("link", name="Onboard tenant").click()
    onboard(page, "Jane Doe", "Jane.Doe@Example.com", "(415) 555-2671")
    expect(page.locator("#contacts")).to_contain_text("jane.doe@example.com")
    expect(page.locator("#contacts")).to_contain_text("+14155552671")

    # pin a note
    page.locator("#add-note summary").click()
    page.get_by_role("textbox", name="Note").fill("Gate code **4321**, dog in the yard")
    page.get_by_label("Category").select_option("access")
    page.get_by_label("Pin to the top of the account").check()
    page.get_by_role("button", name="Add note").click()
    pinned = page.locator("#pinned-notes")
    expect(pinned).to_contain_text("Gate code 4321")
    expect(pinned.locator("strong")).to_have_text("4321")

    # schedule the move-out for today; the scheduler runs it
    page.get_by_role("link", name="Schedule move-out").click()
    page.get_by_label("Move-out date").fill(utcnow().date().isoformat())
    page.get_by_role("button", name="Schedule move-out").click()
    expect(page.locator("#move-out-notice")).to_contain_text("pending")
    jane_url = page.url
    from backhaul.core import scheduler

    scheduler.tick(live.app)  # the periodic job, as `backhaul scheduler --once` runs it
    page.reload()
    expect(page.locator(".page-lead")).to_contain_text("Moved out")
    expect(page.locator("#scheduled-events")).to_contain_text("done")

    # the next tenant at the same unit
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Buildings").click()
    page.get_by_role("link", name="Maple Court").click()
    page.locator('tr[data-unit="101"]').get_by_role("link", name="Onboard tenant").click()
    onboard(page, "Bob Roe", "bob@example.com", "+1 415 555 0199")
    page.get_by_role("link", name="12 Maple Street #101").first.click()
    expect(page.locator("#current-tenant")).to_have_text("Bob Roe")
    history = page.get_by_role("table")
    expect(history).to_contain_text("Jane Doe")
    expect(history).to_contain_text("move out")

    # Jane's record is intact
    page.goto(jane_url)
    expect(page.locator("#pinned-notes")).to_contain_text("Gate code 4321")
    expect(page.locator("#contacts")).to_contain_text("jane.doe@example.com")
