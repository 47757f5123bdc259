"""The staff pages through the test client: the queue with its filters, the ticket page
(thread, canned-reply preview, reply, note, changes), bad input answered 422 beside the
field, the inbound mail page, the set-up page, attachments as downloads, the account page's
timeline and panel."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from tickets_helpers import BILLING, mail, tickets

from backhaul.sdk import db

ALL = ["tickets.ticket.view", "tickets.ticket.work", "tickets.settings.manage",
       "accounts.account.view"]


@pytest.fixture
def signed_in(app, staff_user, login):
    def make(permissions=ALL):
        client = app.test_client()
        login(client, staff_user(permissions, name="Sam Support"))
        return client
    return make


def post(client, url, csrf_token, **data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def _mail_in(msg, to=None):
    from backhaul.plugins.tickets.mailin import ingest

    row = ingest(msg.as_bytes(), "tina@example.net", [to or msg["To"]])
    db.session.commit()
    return row


def test_the_queue_filters_by_group_and_status(app, signed_in, desk, tenant):
    _mail_in(mail("Router blinking red"))
    _mail_in(mail("Invoice twice", to=BILLING))
    support, billing = desk
    client = signed_in()
    page = client.get("/tickets/").get_data(as_text=True)
    assert "Router blinking red" in page and "Invoice twice" in page
    page = client.get(f"/tickets/?group={billing.id}").get_data(as_text=True)
    assert "Invoice twice" in page and "Router blinking red" not in page
    page = client.get("/tickets/?status=closed&group=nonsense").get_data(as_text=True)
    assert "No results match" in page
    page = client.get("/tickets/?q=router").get_data(as_text=True)
    assert "Router blinking red" in page and "Invoice twice" not in page


def test_answer_with_a_canned_reply_and_a_note(app, signed_in, csrf_token, desk, tenant,
                                              email_channel, relay):
    from backhaul.plugins.tickets.models import CannedReply

    account, _ = tenant
    _mail_in(mail("No internet"))
    [ticket] = tickets()
    client = signed_in()
    canned_id = db.session.scalar(sa.select(CannedReply.id))
    page = client.get(f"/tickets/{ticket.id}?canned={canned_id}").get_data(as_text=True)
    expected = f"ticket {ticket.token} for account {account.number}: we are on it."
    assert expected in page  # the preview, in the reply box
    bad = client.get(f"/tickets/{ticket.id}?canned=999").get_data(as_text=True)
    assert "choose one of the canned replies" in bad

    refused = post(client, f"/tickets/{ticket.id}/reply", csrf_token, body=" ", kind="reply")
    assert refused.status_code == 422 and "write 1-100,000 characters" in refused.get_data(
        as_text=True)
    done = post(client, f"/tickets/{ticket.id}/reply", csrf_token, kind="reply",
                body=f"Hello Tina Tenant,\n{expected}", status="pending")
    assert done.status_code == 302
    post(client, f"/tickets/{ticket.id}/reply", csrf_token, kind="note", body="Checked OLT.")
    db.session.rollback()
    assert [m.kind for m in ticket.messages] == ["inbound", "reply", "note"]
    assert ticket.status == "pending"
    received = relay.wait_for(2)
    assert expected in received[-1].message.get_content()


def test_update_and_new_ticket_refuse_bad_input(app, signed_in, csrf_token, desk, tenant):
    account, _ = tenant
    support, _ = desk
    client = signed_in()
    refused = post(client, "/tickets/new", csrf_token, subject="", groupId=str(support.id))
    assert refused.status_code == 422 and "1-300 characters" in refused.get_data(as_text=True)
    refused = post(client, "/tickets/new", csrf_token, subject="Call", groupId=str(support.id),
                   accountNumber="NOPE-1")
    assert refused.status_code == 422 and "there is no account NOPE-1" in refused.get_data(
        as_text=True)
    made = post(client, "/tickets/new", csrf_token, subject="Call", groupId=str(support.id),
                accountNumber=account.number, priority="urgent", body="Rang at 9")
    assert made.status_code == 302
    [ticket] = tickets()
    assert ticket.account_id == account.id and ticket.priority == "urgent"
    bad = post(client, f"/tickets/{ticket.id}/update", csrf_token, status="exploded",
               priority="low", groupId=str(support.id))
    assert bad.status_code == 422
    good = post(client, f"/tickets/{ticket.id}/update", csrf_token, status="solved",
                priority="low", groupId=str(support.id), categoryId="", assigneeId="",
                accountNumber=account.number)
    assert good.status_code == 302
    db.session.rollback()
    assert (ticket.status, ticket.priority) == ("solved", "low")


def test_setup_page_refuses_bad_addresses_and_templates(app, signed_in, csrf_token, desk):
    client = signed_in()
    page = client.get("/tickets/setup").get_data(as_text=True)
    assert BILLING in page and "Outage known" in page
    bad = post(client, "/tickets/setup/addresses", csrf_token, address="nope",
               groupId=str(desk[0].id))
    assert bad.status_code == 422 and "a valid e-mail address" in bad.get_data(as_text=True)
    bad = post(client, "/tickets/setup/canned", csrf_token, name="Oops",
               body="Dear {{ contact.firstname }}")
    assert bad.status_code == 422
    assert "unknown variable &#39;contact.firstname&#39;" in bad.get_data(as_text=True)
    ok = post(client, "/tickets/setup/groups", csrf_token, name="Maple Court")
    assert ok.status_code == 302


@pytest.mark.tickets_settings(unknown_sender="hold")
def test_held_mail_is_listed_and_released(app, signed_in, csrf_token, desk):
    row = _mail_in(mail(sender="new@example.org"))
    client = signed_in()
    page = client.get("/tickets/inbound?outcome=held").get_data(as_text=True)
    assert "new@example.org" in page and "Release" in page
    released = post(client, f"/tickets/inbound/{row.id}/release", csrf_token)
    assert released.status_code == 302 and "/tickets/" in released.headers["Location"]
    assert len(tickets()) == 1
    again = post(client, f"/tickets/inbound/{row.id}/release", csrf_token)
    assert again.status_code == 302 and again.headers["Location"].endswith("/tickets/inbound")


def test_attachments_are_downloads_never_pages(app, signed_in, desk, tenant):
    msg = mail()
    msg.add_attachment("<script>alert(1)</script>", subtype="html", filename='x".html')
    _mail_in(msg)
    [ticket] = tickets()
    [attachment] = ticket.messages[0].attachments
    response = signed_in().get(f"/tickets/attachments/{attachment.id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.html"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_tickets_are_on_the_account_timeline_for_those_who_may_see_them(
        app, signed_in, desk, tenant):
    account, _ = tenant
    _mail_in(mail("Wi-Fi drops at night"))
    [ticket] = tickets()
    page = signed_in().get(f"/accounts/{account.id}").get_data(as_text=True)
    assert f"{ticket.token} Wi-Fi drops at night — E-mail from tina@example.net" in page
    page = signed_in(["accounts.account.view"]).get(f"/accounts/{account.id}").get_data(
        as_text=True)
    assert "Wi-Fi drops at night" not in page


def test_saved_views_keep_filters_per_person_or_for_the_desk(app, staff_user, login,
                                                             csrf_token, desk, tenant):
    from backhaul.plugins.tickets.models import SavedView

    _mail_in(mail("Router blinking red"))
    _mail_in(mail("Invoice twice", to=BILLING))
    support, billing = desk
    sam, kim = (staff_user(ALL, name=n) for n in ("Sam Support", "Kim Keeper"))
    sam_client, kim_client = app.test_client(), app.test_client()
    login(sam_client, sam)
    login(kim_client, kim)
    made = post(sam_client, "/tickets/views", csrf_token, name="Billing backlog",
                group=str(billing.id), status="active", evil="DROP TABLE")
    assert made.status_code == 302 and f"group={billing.id}" in made.headers["Location"]
    post(sam_client, "/tickets/views", csrf_token, name="Everything urgent", shared="y",
         priority="urgent")
    refused = post(sam_client, "/tickets/views", csrf_token, name="Bad", status="exploded")
    assert refused.status_code == 302
    db.session.rollback()
    views = {v.name: v for v in db.session.scalars(sa.select(SavedView))}
    assert set(views) == {"Billing backlog", "Everything urgent"}
    assert views["Billing backlog"].filters == {"group": str(billing.id), "status": "active"}

    sams = sam_client.get("/tickets/").get_data(as_text=True)
    kims = kim_client.get("/tickets/").get_data(as_text=True)
    assert "Billing backlog" in sams and "Billing backlog" not in kims
    assert "Everything urgent" in kims  # shared
    applied = sam_client.get(f"/tickets/?group={billing.id}&status=active").get_data(
        as_text=True)
    assert "Invoice twice" in applied and "Router blinking red" not in applied
    post(kim_client, f"/tickets/views/{views['Billing backlog'].id}/delete", csrf_token)
    post(sam_client, f"/tickets/views/{views['Everything urgent'].id}/delete", csrf_token)
    db.session.rollback()
    assert [v.name for v in db.session.scalars(sa.select(SavedView))] == ["Billing backlog"]
