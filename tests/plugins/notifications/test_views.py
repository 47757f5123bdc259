"""Staff pages: permissions, save-time errors with their line, logs, channels, timeline."""
from __future__ import annotations

from datetime import date

import pytest
from notif_helpers import save

from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.models import ChannelConfig, MessageTemplate
from backhaul.sdk import Money, db

ALL = ["notifications.channels.view", "notifications.channels.manage",
       "notifications.templates.view", "notifications.templates.manage",
       "notifications.messages.view", "notifications.messages.manage",
       "notifications.notices.send"]


@pytest.fixture
def staff(app, staff_user, login):
    client = app.test_client()
    login(client, staff_user(ALL))
    return client


@pytest.mark.parametrize("url, permission", [
    ("/notifications/messages", "notifications.messages.view"),
    ("/notifications/templates", "notifications.templates.view"),
    ("/notifications/channels", "notifications.channels.view"),
    ("/notifications/notices", "notifications.notices.send"),
    ("/notifications/channels/new/webhook", "notifications.channels.manage"),
])
def test_every_page_needs_its_permission(app, matrix_principals, url, permission):
    principals = matrix_principals(permission)
    assert principals.anonymous.get(url).status_code in (302, 401)
    assert principals.without.get(url).status_code == 403
    assert principals.allowed.get(url).status_code == 200


def test_saving_a_broken_template_shows_the_line_and_saves_nothing(app, staff, csrf_token):
    url = "/notifications/templates/testinvoices.invoice_due/email"
    response = staff.post(url, data={
        "csrf_token": csrf_token(staff), "action": "save", "subject": "Invoice",
        "body_text": "Hello {{ contact.name }}\nTotal: {{ invoice.totl }}",
        "body_html": "<p>\n{% if invoice.number %}</p>"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "line 2: unknown variable &#39;invoice.totl&#39;" in html
    assert "line 2: Unexpected end of template" in html
    assert db.session.query(MessageTemplate).count() == 0


def test_channel_form_validates_and_keeps_the_secret(app, staff, csrf_token):
    url = "/notifications/channels/new/webhook"
    assert b'name="settings.secret"' in staff.get(url).data
    bad = staff.post(url, data={"csrf_token": csrf_token(staff), "name": "Hook", "enabled": "y",
                                "settings.url": "ftp://example.net/x",
                                "settings.secret": "0123456789abcdef",
                                "settings.events": "*"})
    assert bad.status_code == 422 and b"must be an http:// or https:// URL" in bad.data
    assert db.session.query(ChannelConfig).count() == 0
    good = staff.post(url, data={"csrf_token": csrf_token(staff), "name": "Hook",
                                 "enabled": "y", "settings.url": "https://example.net/x",
                                 "settings.secret": "0123456789abcdef",
                                 "settings.events": "billing.*\ntestinvoices.outage",
                                 "settings.timeout": "5", "settings.verify_tls": "y"})
    assert good.status_code == 302
    row = db.session.query(ChannelConfig).one()
    assert row.settings["events"] == ["billing.*", "testinvoices.outage"]
    page = staff.get(f"/notifications/channels/{row.id}")
    assert b"0123456789abcdef" not in page.data  # a secret is never shown back
    staff.post(f"/notifications/channels/{row.id}", data={
        "csrf_token": csrf_token(staff), "name": "Hook 2", "enabled": "y",
        "settings.url": "https://example.net/y", "settings.secret": "",
        "settings.events": "*", "settings.timeout": "5"})
    db.session.refresh(row)
    assert (row.name, row.settings["secret"]) == ("Hook 2", "0123456789abcdef")


def test_logs_message_page_retry_and_the_account_timeline(app, staff, csrf_token, smtp_down,
                                                          email_channel, household):
    account, _, _ = household
    email_channel(smtp_down.port)
    save("testinvoices.invoice_due", "email", subject="Invoice {{ invoice.number }}",
         body_text="Due {{ invoice.total }}")
    from backhaul.plugins.notifications.models import Message

    ids = notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "INV-9", "total": Money(100, "USD"), "due_date": date(2026, 1, 1)}})
    db.session.commit()
    msg = db.session.get(Message, ids[0])
    assert msg.status == "failed"  # 8 immediate attempts against a closed port

    listing = staff.get("/notifications/messages?status=failed").get_data(as_text=True)
    assert "INV-9" in listing and "landlord@example.net" in listing
    detail = staff.get(f"/notifications/messages/{msg.id}").get_data(as_text=True)
    assert "cannot reach 127.0.0.1" in detail and 'id="delivery-log"' in detail
    log = staff.get(f"/notifications/channels/{msg.channel_id}/log").get_data(as_text=True)
    assert log.count("retry") >= 7 and "INV-9" not in log  # the log shows events, not bodies

    from backhaul.plugins.notifications.views import timeline_entries

    with app.test_request_context():
        [entry] = timeline_entries(account, 10)
        from backhaul.core.accounts.timeline import build_timeline

        merged = [e for e in build_timeline(account) if e.kind == "notification"]
    assert entry.kind == "notification" and entry.meta["status"] == "failed"
    assert entry.title == "Email failed: Invoice INV-9" and "cannot reach" in entry.body
    assert entry.url == f"/notifications/messages/{msg.id}"
    assert [(e.title, e.meta["plugin"]) for e in merged] == [(entry.title, "notifications")]

    smtp_down.start()
    retried = staff.post(f"/notifications/messages/{msg.id}/retry",
                         data={"csrf_token": csrf_token(staff)})
    assert retried.status_code == 302
    db.session.expire_all()
    assert db.session.get(Message, msg.id).status == "sent"
    assert len(smtp_down.wait_for(1)) == 1
