"""The template editor in headless Chromium: a typo is refused with its line, the preview
shows a real account's values, saving works."""
from __future__ import annotations

import pytest

from backhaul.plugins.notifications.models import MessageTemplate
from backhaul.sdk import db

pytestmark = pytest.mark.browser


def test_template_editor_in_a_browser(app, live_server, page, staff_user, household):
    account, _, _ = household
    user = staff_user(["notifications.templates.view", "notifications.templates.manage"])
    page.goto(live_server.url("/login"))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(live_server.url("/notifications/templates"))
    page.get_by_role("row", name="Invoice due").get_by_role("link").first.click()
    page.get_by_label("Subject").fill("Invoice {{ invoice.number }}")
    page.get_by_label("Text").fill("Hello {{ contact.name }},\n"
                                   "you owe {{ invoice.totl }}.")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#f-body_text-error")
    assert "line 2: unknown variable 'invoice.totl'" in error.text_content()
    assert page.get_by_label("Text").input_value().endswith("{{ invoice.totl }}.")

    page.get_by_label("Text").fill("Hello {{ contact.name }},\n"
                                   "you owe {{ invoice.total }} by {{ invoice.due_date }}.")
    page.get_by_label("Preview for account number").fill(account.number)
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#preview-subject").text_content() == f"Invoice INV-{account.id:04d}"
    text = page.locator("#preview-text").text_content()
    assert "Hello Larry Landlord,\nyou owe 49.99 USD by 2026-12-15." in text
    assert "Larry Landlord" in page.locator("#preview-recipients").text_content()

    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".flash")
    assert "saved" in page.locator(".flash").first.text_content()
    db.session.rollback()  # end this thread's transaction: see what the server wrote
    row = db.session.query(MessageTemplate).one()
    assert row.body_text.endswith("{{ invoice.due_date }}.")
