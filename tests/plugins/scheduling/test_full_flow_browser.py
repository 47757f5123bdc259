"""The whole desk-to-visit flow in Chromium, against real peers: a tenant's mail waits in an
IMAP mailbox (Dovecot); staff add the mailbox on the desk set-up page and fetch it; answer
the ticket with a canned reply; book a visit from the ticket, put a router from stock on
it, drag it from the "not booked" tray onto the technician's calendar; tick the checklist
and complete it. Then: the router is installed at the tenant's account (inventory), the
tenant's notifications are in the delivery log and on the relay (a real SMTP server), and
the account's timeline shows the ticket and the job. Screenshots of each page go to
``BACKHAUL_SCREENSHOTS`` (or the test's temp folder)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from tickets_helpers import mail, make_desk

from backhaul.sdk import db
from backhaul.sdk.testing import dovecot

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["notifications", "tickets", "inventory", "scheduling"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}})
    with application.app_context():
        yield application


@pytest.fixture
def imap_server():
    why = dovecot.missing()
    if why:
        from backhaul.sdk.testing.pytest_plugin import peer_missing

        peer_missing(why)
    with dovecot.DovecotPeer({"support": "pw-support-1"}) as server:
        yield server


def test_mail_to_ticket_to_visit_to_installed_router(app, make_live_server, page, staff_user,
                                                    field, email_channel, relay, imap_server,
                                                    tmp_path):
    from playwright.sync_api import expect

    from backhaul.plugins.inventory import api as inventory
    from backhaul.plugins.inventory import catalogue
    from backhaul.plugins.inventory import stock as inv
    from backhaul.sdk.accounts import add_contact, create_account

    shots = os.environ.get("BACKHAUL_SCREENSHOTS") or str(tmp_path)

    def shot(name):
        page.screenshot(path=os.path.join(shots, f"flow-{name}.png"), full_page=True)

    make_desk()
    account = create_account(name="Flat 4, Maple Court")
    add_contact(account, {"name": "Tina Tenant", "email": "tina@example.net",
                          "is_primary": True})
    wh = catalogue.create_location("WH1", "Main warehouse", "warehouse")
    maker = catalogue.create_manufacturer("Acme Networks")
    ont = catalogue.create_model(maker.id, "Fiber ONT 2", "router", [
        {"label": "Serial", "key": "serial", "type": "serial", "required": True}])
    [router] = inv.receive(ont.id, wh.id, [{"serial": "ONT-0042"}])
    db.session.commit()
    imap_server.append("support", mail("No fiber signal", body="The light is red.").as_bytes())

    user = staff_user(["tickets.ticket.view", "tickets.ticket.work", "tickets.settings.manage",
                       "scheduling.job.view", "scheduling.job.manage",
                       "notifications.messages.view", "accounts.account.view",
                       "inventory.view"], name="Dana Desk")
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    # the desk's set-up: an IMAP mailbox for support@, fetched now
    page.goto(live.url("/tickets/setup"))
    form = page.locator("#mailbox-form")
    form.get_by_label("Name", exact=False).and_(form.locator("#m-name")).fill("Hosted support")
    form.get_by_label("IMAP server").fill("127.0.0.1")
    form.get_by_label("Security").select_option("none")
    form.get_by_label("Port").fill(str(imap_server.port))
    form.get_by_label("User name").fill("support")
    form.locator("#m-password").fill("pw-support-1")
    form.get_by_label("Counts as mail to").select_option(label="support@isp.example.net")
    form.get_by_role("button", name="Add mailbox").click()
    expect(page.locator(".flash").first).to_contain_text("IMAP mailbox added")
    page.locator("#mailboxes").get_by_role("button", name="Fetch now").click()
    expect(page.locator("#mailboxes")).to_contain_text("1 (UID 1)")
    assert "pw-support-1" not in page.content()
    shot("1-desk-setup")
    page.goto(live.url("/tickets/inbound"))
    expect(page.locator("#inbound")).to_contain_text("No fiber signal")
    shot("2-inbound-mail")

    # answer with a canned reply
    page.goto(live.url("/tickets/"))
    page.get_by_role("link", name="No fiber signal").click()
    page.get_by_label("Canned reply").select_option(label="Outage known")
    page.get_by_role("button", name="Insert").click()
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".flash").first).to_contain_text("Reply queued to tina@example.net")
    shot("3-ticket")

    # book a visit, with the router from stock
    page.get_by_role("link", name="Book a visit").click()
    page.get_by_label("Job type").select_option(label="Installation")
    page.get_by_role("button", name="Create job").click()
    page.get_by_label("Install (in stock)").select_option(
        label=f"#{router.id} Acme Networks Fiber ONT 2 · serial ONT-0042")
    page.get_by_role("button", name="Add to install").click()
    expect(page.locator("#job-items")).to_contain_text("ONT-0042")
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    shot("4-job-new")

    # drag it from the tray onto Alex's Monday 10:00
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    _install, alex, _sam = field
    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}&view=week"))
    page.locator(f"#unbooked #job-chip-{job_id}").drag_to(page.locator(
        f'.cal-slot[data-technician="{alex.id}"][data-start="{monday.isoformat()}T10:00"]'))
    expect(page.locator(".flash").first).to_contain_text(
        f"Job #{job_id} booked for {monday:%a %d %b} 10:00 with Alex Fielder")
    expect(page.locator("#unbooked")).to_have_count(0)
    shot("5-calendar")

    # the visit: checklist, then complete
    page.locator(f"#job-chip-{job_id}").click()
    page.get_by_role("button", name="Done: Mount the ONT").click()
    page.get_by_role("button", name="Done: Test the speed").click()
    page.get_by_role("button", name="Complete job").click()
    expect(page.locator("#job-status")).to_have_text("done")
    expect(page.locator("#job-items")).to_contain_text("✓ installed")
    shot("6-job-done")

    db.session.rollback()
    held = inventory.items_held_by("account", account.id)
    assert [(i.id, i.status) for i in held] == [(router.id, "installed")]

    page.goto(live.url(f"/accounts/{account.id}"))
    expect(page.locator("body")).to_contain_text(f"Job #{job_id} Installation: done")
    expect(page.locator("body")).to_contain_text("No fiber signal")
    shot("7-account")
    page.goto(live.url("/notifications/messages"))
    booked = page.locator("#messages tr", has_text="scheduling.job_booked")
    expect(booked).to_contain_text("tina@example.net")
    shot("8-delivery-log")
    texts = [m.message.get_content() for m in relay.wait_for(3)]
    assert any("Alex Fielder will come for your Installation" in t for t in texts), texts
