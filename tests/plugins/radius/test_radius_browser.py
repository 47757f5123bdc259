"""The RADIUS page and the account panel in Chromium."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from radius_helpers import make_subscriber

from backhaul.sdk import db

pytestmark = pytest.mark.browser


def test_staff_see_sessions_relax_a_nas_and_see_the_reject_reason(app, make_live_server, page,
                                                                  staff_user, tmp_path):
    from playwright.sync_api import expect

    from backhaul.plugins.radius import accounting
    from backhaul.plugins.radius.models import LastAuth, NasSettings

    account, sub, device = make_subscriber(app)
    accounting.record(device.id, accounting.Update(
        status=accounting.INTERIM, session_id="S-77", username=f"pppoe{sub.id}",
        at=datetime.now(UTC), input_octets=3 * 2**20, output_octets=50 * 2**20,
        framed_ip="100.64.20.7"), subscription_id=sub.id, account_id=account.id)
    db.session.add(LastAuth(username=f"pppoe{sub.id}", subscription_id=sub.id,
                            device_id=device.id, at=datetime.now(UTC), accepted=False,
                            reason="wrong password (CHAP)"))
    user = staff_user(["radius.view", "radius.manage", "accounts.account.view",
                       "network.view"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/radius/"))
    expect(page.locator("#nases")).to_contain_text("bng-1")
    expect(page.locator(".sessions")).to_contain_text("100.64.20.7")
    expect(page.locator(".sessions")).to_contain_text("52.4 MB")
    expect(page.locator("#rejects")).to_contain_text("wrong password (CHAP)")
    page.locator("#nases input[name=require_message_authenticator]").uncheck()
    page.locator("#nases input[name=coa_port]").fill("3800")
    page.locator("#nases").get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("NAS options saved")
    page.screenshot(path=str(tmp_path / "radius.png"), full_page=True)
    db.session.expire_all()
    options = db.session.scalar(sa.select(NasSettings))
    assert options.coa_port == 3800 and options.require_message_authenticator is False
    page.goto(live.url(f"/accounts/{account.id}"))
    expect(page.locator("body")).to_contain_text("rejected: wrong password (CHAP)")
    expect(page.locator("body")).to_contain_text("100.64.20.7")
