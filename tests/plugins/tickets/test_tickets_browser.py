"""In Chromium: a tenant's mail arrives over real SMTP, a staff member answers it with a
canned reply (previewed in the reply box, then sent), and the reply is in the notifications
plugin's delivery log — and in the tenant's inbox on the relay."""
from __future__ import annotations

import pytest
from tickets_helpers import mail, send, tickets, wait_for

pytestmark = pytest.mark.browser


def test_answer_a_mailed_ticket_with_a_canned_reply(app, make_live_server, page, staff_user,
                                                    listener, tenant, email_channel, relay,
                                                    tmp_path):
    from playwright.sync_api import expect

    account, _ = tenant
    send(listener.port, mail("Internet down in unit 4", body="Nothing since 7am."))
    [ticket] = wait_for(tickets)
    relay.wait_for(1)  # the acknowledgement
    user = staff_user(["tickets.ticket.view", "tickets.ticket.work",
                       "notifications.messages.view", "accounts.account.view"],
                      name="Sam Support")
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(live.url("/tickets/"))
    expect(page.locator("#tickets")).to_contain_text(ticket.token)
    page.screenshot(path=str(tmp_path / "tickets-list.png"), full_page=True)
    page.get_by_role("link", name="Internet down in unit 4").click()
    expect(page.locator("#thread")).to_contain_text("Nothing since 7am.")
    page.get_by_label("Canned reply").select_option(label="Outage known")
    page.get_by_role("button", name="Insert").click()
    expected = f"ticket {ticket.token} for account {account.number}: we are on it."
    expect(page.get_by_label("Message")).to_have_value(f"Hello Tina Tenant,\n{expected}")
    page.get_by_label("Message").fill(page.get_by_label("Message").input_value()
                                      + "\nSam")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".flash").first).to_contain_text("Reply queued to tina@example.net")
    expect(page.locator("#thread")).to_contain_text(expected)
    expect(page.locator("#ticket-status")).to_have_text("pending")
    page.screenshot(path=str(tmp_path / "ticket-page.png"), full_page=True)

    page.get_by_role("link", name="e-mailed from support@isp.example.net").click()
    expect(page.locator("body")).to_contain_text("tina@example.net")
    page.goto(live.url("/notifications/messages"))
    row = page.locator("#messages tr", has_text="tickets.reply")
    expect(row).to_contain_text(f"Re: Internet down in unit 4 [#{ticket.token}]")
    expect(row).to_contain_text("sent")
    received = relay.wait_for(2)[1].message
    assert expected in received.get_content()
    assert received["From"].addresses[0].addr_spec == "support@isp.example.net"
