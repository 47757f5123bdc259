"""The monitoring pages in Chromium: a down radio with the accounts behind it and its
charts, the outage notice sent from the page, and the account's outage panel."""
from __future__ import annotations

import math
import os
from datetime import timedelta
from pathlib import Path

import pytest
from poller_helpers import make_device

from backhaul.sdk import db, utcnow

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("POLLER_SCREENSHOTS")  # keep the screenshots somewhere to look at


def _shot(page, tmp_path, name):
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _seed():
    from backhaul.plugins.network.models import Credential
    from backhaul.plugins.poller import affected
    from backhaul.plugins.poller.models import Sample, TargetState
    from backhaul.sdk.accounts import add_contact, create_account

    device = make_device("sector-north-2", "198.51.100.7", role="radio")
    account = create_account(name="Alice Example")
    add_contact(account, {"name": "Alice", "email": "alice@example.net"})
    db.session.flush()
    db.session.add(Credential(subscription_id=501, account_id=account.id,
                              device_id=device.id))
    key, now = f"device:{device.id}", utcnow()
    rows = []
    for i in range(288):  # a day every 5 minutes: latency, loss, traffic in and out
        at = now - timedelta(minutes=5 * (288 - i))
        rows += [{"target": key, "metric": "icmp.rtt", "at": at,
                  "value": 3 + 2 * math.sin(i / 20)},
                 {"target": key, "metric": "icmp.loss", "at": at,
                  "value": 100.0 if i > 280 else 0.0},
                 {"target": key, "metric": "if.eth0.in", "at": at,
                  "value": 40e6 + 30e6 * math.sin(i / 40)},
                 {"target": key, "metric": "if.eth0.out", "at": at,
                  "value": 8e6 + 5e6 * math.cos(i / 30)}]
    db.session.execute(Sample.__table__.insert(), rows)
    db.session.add(TargetState(target=key, name=device.name, state="down",
                               raw_state="down", reason="100% ICMP loss", changed_at=now,
                               polled_at=now, loss=100.0, levels={}, counters={}, flips=[]))
    affected.mark(key, now - timedelta(minutes=35))
    db.session.commit()
    return device, account, key


def test_device_page_charts_notice_and_account_panel(app, make_live_server, page, staff_user,
                                                     tmp_path):
    from playwright.sync_api import expect

    device, account, key = _seed()
    user = staff_user(["poller.view", "poller.manage", "accounts.account.view"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url(f"/poller/targets/{key}"))
    expect(page.locator("#state")).to_contain_text("down")
    expect(page.locator("#affected")).to_contain_text("1 service")
    expect(page.locator("svg.poller-chart")).to_have_count(4)
    _shot(page, tmp_path, "poller-device.png")
    page.get_by_role("button", name="Send outage notice").click()
    expect(page.locator("body")).to_contain_text("Outage notice queued for 1 account(s).")
    expect(page.locator("#affected")).to_contain_text("notice sent")
    page.goto(live.url(f"/accounts/{account.id}"))
    expect(page.locator(".poller-outages")).to_contain_text("sector-north-2")
    _shot(page, tmp_path, "poller-account.png")
    page.goto(live.url("/poller/"))
    expect(page.locator("#states")).to_contain_text("sector-north-2")
    _shot(page, tmp_path, "poller-index.png")
