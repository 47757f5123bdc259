"""The intake screen in Chromium, driven the way a keyboard-wedge scanner drives it: each code
typed key by key and followed by Enter, as fast as the browser takes keys."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from inventory_helpers import setup_stock

from backhaul.sdk import db

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("INVENTORY_SCREENSHOTS")  # keep the screenshots somewhere to look at


def _sign_in(page, live, user):
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()


def _shot(page, tmp_path, name):
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_scan_twenty_serials_two_flagged_eighteen_received(app, make_live_server, page,
                                                           staff_user, tmp_path):
    from playwright.sync_api import expect

    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.models import Item

    s = setup_stock()
    user = staff_user(["inventory.view", "inventory.stock.manage"])
    db.session.commit()
    serials = [f"AB5-{n:05d}" for n in range(1, 19)]
    scans = serials[:7] + [serials[3]] + serials[7:12] + ["AB5 00X!"] + serials[12:]
    assert len(scans) == 20
    live = make_live_server(app)
    _sign_in(page, live, user)
    page.goto(live.url(f"/inventory/intake?model_id={s.radio.id}&location_id={s.bin1.id}"))
    expect(page.locator("#scan-prompt")).to_contain_text("Next: Serial number")
    scan = page.locator("#scan")
    for code in scans:
        scan.press_sequentially(code)
        scan.press("Enter")
    expect(page.locator("#batch-summary")).to_have_text("18 ready, 2 flagged")
    flagged = page.locator("tr.scan-flagged")
    expect(flagged).to_have_count(2)
    # newest first: the malformed scan (14th) above the double scan (8th)
    expect(flagged.nth(0)).to_contain_text("'AB5 00X!' is not a serial number")
    expect(flagged.nth(1)).to_contain_text("AB5-00004 is already in this batch")
    expect(page.locator("#batch tbody tr").first).to_contain_text("AB5-00018")
    _shot(page, tmp_path, "inventory-intake.png")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator(".flash-success")).to_contain_text("18 item(s) received into Bin A-01")
    db.session.expire_all()
    received = db.session.scalars(sa.select(Item).where(Item.location_id == s.bin1.id)).all()
    assert len(received) == 18
    assert sorted(i.value for ids in stock.identifiers(r.id for r in received).values()
                  for i in ids) == serials

    # the lookup field finds an item from a scanned serial and its page shows its life
    page.locator("#lookup-q").fill("ab5-00009")
    page.locator("#lookup-q").press("Enter")
    expect(page.locator("#item-fields")).to_contain_text("AB5-00009")
    expect(page.locator("#history")).to_contain_text("receive")
    page.locator("#move-location").select_option(label="Van 1 (VAN-1)")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("#history tbody tr")).to_have_count(2)
    expect(page.locator("#item-state")).to_contain_text("Van 1")
    _shot(page, tmp_path, "inventory-item.png")


def test_a_rescan_after_someone_else_received_keeps_the_batch(app, make_live_server, page,
                                                              staff_user):
    """The server checks again on receive: a serial taken meanwhile is flagged, the rest of
    the batch comes back intact, and nothing is received until it is removed."""
    from playwright.sync_api import expect

    from backhaul.plugins.inventory import stock

    s = setup_stock()
    user = staff_user(["inventory.view", "inventory.stock.manage"])
    db.session.commit()
    live = make_live_server(app)
    _sign_in(page, live, user)
    page.goto(live.url(f"/inventory/intake?model_id={s.radio.id}&location_id={s.bin2.id}"))
    scan = page.locator("#scan")
    for code in ("R-1", "R-2", "R-3"):
        scan.press_sequentially(code)
        scan.press("Enter")
    expect(page.locator("#batch-summary")).to_have_text("3 ready, 0 flagged")
    stock.receive(s.radio.id, s.bin1.id, [{"serial": "R-2"}])   # a colleague, meanwhile
    db.session.commit()
    page.get_by_role("button", name="Receive").click()
    expect(page.locator("#intake-errors-summary")).to_contain_text("Nothing was received")
    expect(page.locator("#batch-summary")).to_have_text("2 ready, 1 flagged")
    expect(page.locator("tr.scan-flagged")).to_contain_text("R-2 is already used by item #1")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator(".flash-success")).to_contain_text("2 item(s) received into Bin A-02")


def test_a_router_takes_two_scans_and_cable_is_received_by_quantity(app, make_live_server,
                                                                     page, staff_user):
    """A model with a serial and a MAC takes both per item (the box's two barcodes); a bad
    MAC is flagged while the item keeps waiting for a good one. A bulk model shows a
    quantity instead of the scan field."""
    from playwright.sync_api import expect

    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.models import Item

    s = setup_stock()
    user = staff_user(["inventory.view", "inventory.stock.manage"])
    db.session.commit()
    live = make_live_server(app)
    _sign_in(page, live, user)
    page.goto(live.url(f"/inventory/intake?model_id={s.router.id}&location_id={s.bin2.id}"))
    expect(page.locator("#scan-prompt")).to_contain_text("Next: Serial (Serial, then MAC per item)")
    scan = page.locator("#scan")
    for code in ("rt-100", "00:11:22:33:44:zz", "0011.2233.4401", "RT-101", "00-11-22-33-44-02"):
        scan.press_sequentially(code)
        scan.press("Enter")
    expect(page.locator("#batch-summary")).to_have_text("2 ready, 1 flagged")
    expect(page.locator("tr.scan-flagged")).to_contain_text("MAC: '00:11:22:33:44:zz' is not")
    expect(page.locator("#batch tbody tr").first).to_contain_text("RT-101 · 00:11:22:33:44:02")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator(".flash-success")).to_contain_text("2 item(s) received into Bin A-02")
    assert stock.find("mac", "00:11:22:33:44:01").id == stock.find("serial", "RT-100").id

    page.locator("#model_id").select_option(label="Acme Networks Drop cable (bulk, m)")
    expect(page.locator("#scan-area")).to_be_hidden()
    page.locator("#location_id").select_option(label="Van 1 (VAN-1)")
    page.locator("#quantity").fill("152.5")
    page.get_by_role("button", name="Receive").click()
    expect(page.locator(".flash-success")).to_contain_text("152.5 received into Van 1")
    db.session.expire_all()
    [reel] = db.session.scalars(sa.select(Item).where(Item.model_id == s.cable.id)).all()
    assert str(reel.quantity) == "152.500" and reel.location_id == s.van.id
