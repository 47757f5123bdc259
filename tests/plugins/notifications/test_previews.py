"""HTML previews: served from their own URL with the sandbox policy, refused without the
permission of the page that shows them; unsaved template previews expire and are private."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from notif_helpers import save

from backhaul.plugins.notifications import previews
from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.models import HtmlPreview
from backhaul.sdk import Money, db, utcnow

POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; "
          "frame-ancestors 'self'")
STYLED = '<p style="color: #c80000">Invoice {{ invoice.number }} is due.</p>'
EDITOR = "/notifications/templates/testinvoices.invoice_due/email"
IFRAME = re.compile(r"<iframe\b[^>]*>", re.S)


def assert_sandboxed(response) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the app's, kept


def iframe_of(page_html: str) -> str:
    [tag] = IFRAME.findall(page_html)
    assert re.search(r"\ssandbox(\s|>|=\"\")", tag), tag  # no allowances
    assert "srcdoc" not in tag and "allow-" not in tag
    return re.search(r'\ssrc="([^"]+)"', tag).group(1)


@pytest.fixture
def message_id(app, smtp_server, email_channel, household):
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.invoice_due", "email", subject="Invoice {{ invoice.number }}",
         body_text="Due {{ invoice.total }}", body_html=STYLED)
    [found] = notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "INV-31", "total": Money(100, "USD"), "due_date": date(2026, 1, 1)}})
    db.session.commit()
    return found


def test_message_preview_url_serves_the_html_under_the_sandbox_policy(app, message_id,
                                                                      matrix_principals):
    principals = matrix_principals("notifications.messages.view")
    page = principals.allowed.get(f"/notifications/messages/{message_id}")
    assert page.status_code == 200
    url = iframe_of(page.get_data(as_text=True))
    assert url == f"/notifications/messages/{message_id}/preview.html"

    response = principals.allowed.get(url)
    assert response.status_code == 200
    assert_sandboxed(response)
    assert '<p style="color: #c80000">Invoice INV-31 is due.</p>' in response.get_data(
        as_text=True)
    assert principals.read_token.get(url).status_code == 200  # a read permission

    assert principals.anonymous.get(url).status_code in (302, 401)
    refused = principals.without.get(url)
    assert refused.status_code == 403 and b"INV-31" not in refused.data


def test_message_without_html_has_no_frame_and_no_preview(app, smtp_server, email_channel,
                                                          household, staff_user, login):
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.outage", "email", subject="Outage", body_text="At {{ outage.when }}")
    found = notify("testinvoices.outage", account.id, {"outage": {"when": "2am"}})[0]
    db.session.commit()
    client = app.test_client()
    login(client, staff_user(["notifications.messages.view"]))
    assert "<iframe" not in client.get(f"/notifications/messages/{found}").get_data(
        as_text=True)
    missing = client.get(f"/notifications/messages/{found}/preview.html")
    assert missing.status_code == 404
    assert_sandboxed(missing)  # the answer still shows inside a frame


def _preview(client, csrf_token, account) -> str:
    response = client.post(EDITOR, data={
        "csrf_token": csrf_token(client), "action": "preview", "subject": "Invoice",
        "body_text": "Due {{ invoice.total }}", "body_html": STYLED,
        "preview_account": account.number})
    assert response.status_code == 200
    return iframe_of(response.get_data(as_text=True))


def test_unsaved_template_preview_is_served_to_its_author_only(app, household, staff_user,
                                                               login, csrf_token,
                                                               matrix_principals):
    account, _, _ = household
    author = app.test_client()
    login(author, staff_user(["notifications.templates.view",
                              "notifications.templates.manage"]))
    url = _preview(author, csrf_token, account)
    assert re.fullmatch(r"/notifications/previews/[A-Za-z0-9_-]{43}\.html", url)

    response = author.get(url)
    assert response.status_code == 200
    assert_sandboxed(response)
    assert (f'<p style="color: #c80000">Invoice INV-{account.id:04d} is due.</p>'
            in response.get_data(as_text=True))

    principals = matrix_principals("notifications.templates.manage")
    assert principals.anonymous.get(url).status_code in (302, 401)
    assert principals.without.get(url).status_code == 403
    assert principals.read_token.get(url).status_code == 403
    viewer = app.test_client()  # may open the editor, may not preview (a POST with manage)
    login(viewer, staff_user(["notifications.templates.view"]))
    assert viewer.get(url).status_code == 403
    other = principals.allowed.get(url)  # holds the permission, did not render it
    assert other.status_code == 404 and b"INV-" not in other.data
    assert principals.allowed.get("/notifications/previews/nope.html").status_code == 404


def test_template_preview_expires_and_is_purged(app, household, staff_user, login, csrf_token):
    account, _, _ = household
    client = app.test_client()
    login(client, staff_user(["notifications.templates.view",
                              "notifications.templates.manage"]))
    url = _preview(client, csrf_token, account)
    row = db.session.query(HtmlPreview).one()
    assert timedelta(minutes=29) < row.expires_at - utcnow() <= previews.PREVIEW_TTL
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(url).status_code == 404

    fresh = _preview(client, csrf_token, account)  # storing a new one purges the old
    db.session.expire_all()
    assert [r.key for r in db.session.query(HtmlPreview)] == [fresh.split("/")[-1][:-5]]
    assert client.get(fresh).status_code == 200


def test_store_load_and_purge_without_flask(app):
    now = utcnow()
    key = previews.store("<p>x</p>", "user:1", now=now)
    db.session.commit()
    assert previews.load(key, "user:1", now=now) == "<p>x</p>"
    assert previews.load(key, "user:2", now=now) is None
    assert previews.load(key + "x", "user:1", now=now) is None
    assert previews.load("k" * 500, "user:1", now=now) is None
    assert previews.load(key, "user:1", now=now + previews.PREVIEW_TTL) is None
    assert previews.purge_expired(now) == 0
    assert previews.purge_expired(now + previews.PREVIEW_TTL) == 1
    db.session.commit()
    assert previews.purge_job() == 0  # idempotent
