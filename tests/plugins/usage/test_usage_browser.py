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


def _v5(src: str, dst: str, octets: int, sequence: int) -> bytes:
    """One NetFlow v5 datagram of one flow that ended a second before its export."""
    import socket
    import struct
    import time

    head = struct.pack("!HHIIIIBBH", 5, 1, 100_000, int(time.time()), 0, sequence, 0, 0, 0)
    return head + socket.inet_aton(src) + socket.inet_aton(dst) + bytes(8) + struct.pack(
        "!IIII", 10, octets, 98_000, 99_000) + bytes(16)


def test_usage_page_and_a_throttled_service_in_chromium(app, make_live_server, page,
                                                       staff_user, tmp_path):
    """The month-by-month bars and the fair-usage line on the account page; the Usage page
    with a real collector's health (it received two datagrams), top users and unknown
    traffic — screenshots kept for a person to look at."""
    import socket

    from playwright.sync_api import expect
    from usage_helpers import CollectorProcess

    from backhaul.plugins.usage.fair_usage import current_period
    from backhaul.plugins.usage.models import Throttle
    from backhaul.sdk.testing import free_port

    account, sub, _ = make_subscriber(app, "Heavy Tenant", allowance_gb=20,
                                      fair_usage_kbps=1024)
    now = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    first = now.replace(day=1)
    deltas = [rollup.Delta(sub.id, first + timedelta(days=d), 5 * 10**9, 10**9, "radius")
              for d in range(min(now.day, 9))]
    deltas.append(rollup.Delta(sub.id, first, 15 * 10**9, 0, "radius"))  # past 20 GB
    for back in range(1, 5):  # the four months before: 20, 30, 40, 50 GB
        month = (first - timedelta(days=28 * back)).replace(day=3)
        deltas.append(rollup.Delta(sub.id, month, (60 - 10 * back) * 10**9, 0, "radius"))
    rollup.add(deltas)  # this month: over the 20 GB; the collector's cap check keeps the row
    db.session.add(Throttle(subscription_id=sub.id, account_id=account.id,
                            period_start=current_period(), kbps=1024, since=now))
    user = staff_user(["accounts.account.view", "usage.view"])
    db.session.commit()
    shots = os.environ.get("BACKHAUL_SCREENSHOTS") or str(tmp_path)
    port = free_port()
    with CollectorProcess(app, port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(_v5("198.51.100.7", "100.64.20.7", 1500, 0), ("127.0.0.1", port))
            udp.sendto(_v5("198.51.100.7", "100.65.0.1", 700, 1), ("127.0.0.1", port))
        live = make_live_server(app)
        page.goto(live.url("/login"))
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(user.test_password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(live.url(f"/accounts/{account.id}"))
        expect(page.locator(".usage-throttled")).to_contain_text("Throttled to 1024 kbit/s")
        assert page.locator("svg.usage-months rect").count() == 5
        page.screenshot(path=f"{shots}/usage-account-throttled.png", full_page=True)
        for _ in range(30):  # the collector's heartbeat after both datagrams
            page.goto(live.url("/usage/"))
            if "2 (" in page.locator("#health").inner_text():
                break
            page.wait_for_timeout(500)
        expect(page.locator("#health")).to_contain_text("127.0.0.1")
        expect(page.locator("#top")).to_contain_text("Heavy Tenant (A000001)")
        expect(page.locator("#top")).to_contain_text("throttled to 1024 kbit/s")
        expect(page.locator("#unattributed")).to_contain_text("127.0.0.1")
        page.screenshot(path=f"{shots}/usage-page.png", full_page=True)
