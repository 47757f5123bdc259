"""In Chromium: an integrator adds a webhook endpoint from the Webhooks page (the
notifications channel form), sees it listed with its events, and after a payment whose
first delivery failed reads the retry and the success in the endpoint's delivery log."""
from __future__ import annotations

import json

import pytest
from webhooks_helpers import SECRET, bill_and_pay, check_signature

from backhaul.sdk.testing.browser import sign_in

pytestmark = pytest.mark.browser


def test_add_an_endpoint_and_read_its_log(app, make_live_server, page, staff_user, receiver,
                                          tmp_path):
    from playwright.sync_api import expect

    user = staff_user(["webhooks.view", "notifications.channels.view",
                       "notifications.channels.manage"], name="Ian Integrator")
    live = make_live_server(app)
    sign_in(page, live, user)

    page.goto(live.url("/webhooks/"))
    expect(page.locator("#events")).to_contain_text("payment.received")
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("Name").fill("ERP")
    page.get_by_label("Url").fill(receiver.url)
    page.get_by_label("Secret").fill(SECRET)
    page.get_by_label("Events").fill("payment.*\ninvoice.finalized")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash").first).to_contain_text("Channel 'ERP' saved.")

    page.goto(live.url("/webhooks/"))
    row = page.locator("#endpoints tr", has_text="ERP")
    expect(row).to_contain_text(receiver.url)
    expect(row).to_contain_text("payment.*, invoice.finalized")
    page.screenshot(path=str(tmp_path / "webhooks.png"), full_page=True)

    receiver.statuses = [502]  # the first delivery (the invoice's) fails, its retry succeeds
    bill_and_pay()
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert events == ["invoice.finalized", "invoice.finalized", "payment.received"]
    for request in receiver.requests:
        check_signature(request)

    row.get_by_role("link", name="Deliveries").click()
    log = page.locator("table")
    expect(log).to_contain_text("HTTP 502")
    expect(log).to_contain_text("invoice.finalized")
    expect(log).to_contain_text("payment.received")
    expect(log).to_contain_text("sent")
    page.screenshot(path=str(tmp_path / "webhook-log.png"), full_page=True)
