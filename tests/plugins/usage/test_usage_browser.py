"""The account's Usage panel in Chromium: the month against the allowance, the last days as
bars (no inline style: the CSP forbids it), the counted source changed through its form."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from usage_helpers import make_subscriber

from backhaul.plugins.usage import rollup
from backhaul.plugins.usage.models import SourceChoice
from backhaul.sdk import db

pytestmark = pytest.mark.browser


def test_usage_panel_on_the_account_page(app, make_live_server, page, staff_user, tmp_path):
    from playwright.sync_api import expect

    account, sub, _ = make_subscriber(app, allowance_gb=100)
    today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    rollup.add([rollup.Delta(sub.id, today - timedelta(days=d), (3 + d % 5) * 10**9,
                             10**8, "radius") for d in range(min(today.day, 12))])
    user = staff_user(["accounts.account.view", "usage.view", "usage.manage"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url(f"/accounts/{account.id}"))
    panel = page.locator(".usage-service")
    expect(panel).to_contain_text("of 100.00 GB")
    assert page.locator("svg.usage-days rect").count() >= 1
    assert page.locator("progress.usage-allowance").count() == 1
    page.screenshot(path=str(tmp_path / "usage-panel.png"), full_page=True)
    if os.environ.get("BACKHAUL_SCREENSHOTS"):
        page.screenshot(path=os.environ["BACKHAUL_SCREENSHOTS"] + "/usage-panel.png",
                        full_page=True)
    panel.get_by_label("Counted source").select_option("netflow")
    panel.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("Usage source saved.")
    db.session.expire_all()
    assert db.session.get(SourceChoice, sub.id).source == "netflow"
