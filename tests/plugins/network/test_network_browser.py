"""The network page in Chromium: a staff member runs a dry run and sees the drift report."""
from __future__ import annotations

import pytest

from backhaul.sdk import db

pytestmark = pytest.mark.browser


def test_dry_run_from_the_device_page(app, make_live_server, page, staff_user, tmp_path):
    from network_helpers import make_tenant
    from playwright.sync_api import expect

    from backhaul.plugins.network.desired import device_ref
    from backhaul.sdk.testing.provisioning import edit_by_hand

    account, sub, device = make_tenant(app, "Browser Tenant")
    edit_by_hand(device_ref(device), f"sub-{sub.id}", rate="5/5")
    user = staff_user(["network.view", "network.manage", "accounts.account.view"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/network/"))
    expect(page.locator("#subnets")).to_contain_text("100.64.9.0/24")
    page.get_by_role("link", name="mdu-router").click()
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator(".reconcile").first).to_contain_text("dry run: 1 difference")
    expect(page.locator(".reconcile").first).to_contain_text("5/5")
    page.screenshot(path=str(tmp_path / "network-device.png"), full_page=True)
    page.get_by_role("button", name="Reconcile now").click()
    expect(page.locator(".reconcile").first).to_contain_text("1 applied")
