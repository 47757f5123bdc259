"""Set-password links: asked for on the portal (or sent by staff), e-mailed through the
notifications plugin's SMTP channel to a real SMTP server, expiring, used once."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from portal_helpers import PASSWORD, make_tenant, portal_csrf, portal_sign_in

from backhaul.sdk import db, utcnow

NEW_PASSWORD = "maple court fibre lantern"


def _password_mail(relay, timeout: float = 10.0):
    """The one set-password e-mail the relay received (invoices may arrive beside it)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in relay.inbox if "password" in (m.message["Subject"] or "")]
        if found:
            assert len(found) == 1, [m.message["Subject"] for m in found]
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no set-password mail; got {[m.message['Subject'] for m in relay.inbox]}")


def _link_from(received) -> str:
    body = received.message.get_payload(decode=True).decode() \
        if not received.message.is_multipart() else \
        received.message.get_body(("plain",)).get_content()
    return re.search(r"http://\S+/portal/password/\S+", body).group(0)


def _ask(client, email):
    return client.post("/portal/password/forgot", data={"email": email,
                                                        "csrf_token": portal_csrf(client)})


def test_forgot_password_link_arrives_by_mail_sets_the_password_once(
        app, relay, email_channel):
    tenant = make_tenant(password=None, delinquent=False)
    client = app.test_client()
    answer = _ask(client, "Tina@Example.net")
    assert answer.status_code == 200 and "we have e-mailed a link" in answer.get_data(as_text=True)
    mail = _password_mail(relay)
    assert mail.rcpt_tos == [tenant.email]
    url = _link_from(mail)
    path = url.split("http://bh.test", 1)[-1] if "bh.test" in url else re.sub(
        r"^http://[^/]+", "", url)
    assert client.get(path).status_code == 200
    weak = client.post(path, data={"password": "password1", "confirm": "password1",
                                   "csrf_token": portal_csrf(client)})
    assert weak.status_code == 400 and "at least 12 characters" in weak.get_data(as_text=True)
    differ = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x",
                                     "csrf_token": portal_csrf(client)})
    assert "The two passwords differ." in differ.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                   "csrf_token": portal_csrf(client)})
    assert done.status_code == 302 and done.headers["Location"] == "/portal/login"
    assert portal_sign_in(client, tenant.email, NEW_PASSWORD).status_code == 302
    # used once: the same link is dead now
    again = app.test_client()
    assert again.get(path).status_code == 404
    assert again.post(path, data={"password": "another long passphrase here",
                                  "confirm": "another long passphrase here",
                                  "csrf_token": portal_csrf(again)}).status_code == 404


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, relay, email_channel):
    make_tenant(delinquent=False)
    answer = _ask(app.test_client(), "stranger@example.net")
    assert answer.status_code == 200 and "we have e-mailed a link" in answer.get_data(as_text=True)
    from backhaul.plugins.portal.models import Link

    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 0


def test_at_most_three_links_an_hour_per_address(app, email_channel):
    from backhaul.plugins.portal.models import Link

    make_tenant(delinquent=False)
    client = app.test_client()
    for _ in range(5):
        assert _ask(client, "tina@example.net").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 3
    # and from one IP, whatever addresses it names
    from backhaul.plugins.portal.links import RESET_REQUESTS_PER_IP_HOUR

    for i in range(RESET_REQUESTS_PER_IP_HOUR):
        _ask(client, f"someone{i}@example.net")
    make_tenant("Late Larry", "larry@example.net", delinquent=False)
    _ask(client, "larry@example.net")
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 3  # none for larry


def test_an_expired_link_or_a_superseded_one_does_not_work(app, email_channel):
    from backhaul.plugins.portal import links
    from backhaul.plugins.portal.models import Link

    tenant = make_tenant(delinquent=False)
    first = links.issue(tenant.contact, 60)
    second = links.issue(tenant.contact, 60)
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/portal/password/{first}").status_code == 404  # superseded
    assert client.get(f"/portal/password/{second}").status_code == 200
    for row in db.session.scalars(sa.select(Link)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/portal/password/{second}").status_code == 404
    assert client.get("/portal/password/" + "x" * 43).status_code == 404


def test_setting_a_password_signs_out_every_session_and_stores_no_token(app, customer, tenant):
    from backhaul.plugins.portal import links
    from backhaul.plugins.portal.models import Link, Login

    token = links.issue(tenant.contact, 60)
    db.session.commit()
    assert token not in db.session.scalar(sa.select(Link.id))
    client = app.test_client()
    client.post(f"/portal/password/{token}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": portal_csrf(client)})
    assert customer.get("/portal/").status_code == 302  # the old session ended
    login = db.session.get(Login, tenant.contact.id)
    db.session.refresh(login)
    assert login.password_hash.startswith("$argon2id$") and NEW_PASSWORD not in \
        login.password_hash
    assert portal_sign_in(app.test_client(), password=PASSWORD).status_code == 401


def test_staff_send_the_link_from_the_account_page(app, relay, email_channel, staff_user,
                                                    login, csrf_token):
    tenant = make_tenant(password=None, delinquent=False)
    client = app.test_client()
    login(client, staff_user(["accounts.account.view", "portal.access.manage"]))
    page = client.get(f"/accounts/{tenant.account.id}").get_data(as_text=True)
    assert "no password yet" in page and "set-password link" in page
    response = client.post(f"/settings/portal/contacts/{tenant.contact.id}/link",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    mail = _password_mail(relay)
    assert "choose a password" in mail.message["Subject"]
    viewer = app.test_client()
    login(viewer, staff_user(["accounts.account.view"], email="viewer@isp.example"))
    assert viewer.post(f"/settings/portal/contacts/{tenant.contact.id}/link",
                       data={"csrf_token": csrf_token(viewer)}).status_code == 403


def test_the_audit_trail_never_holds_a_password_hash_or_a_link_token(app, email_channel):
    from backhaul.core.audit.models import AuditEntry
    from backhaul.plugins.portal import links

    tenant = make_tenant(password=None, delinquent=False)
    token = links.issue(tenant.contact, 60)
    db.session.commit()
    client = app.test_client()
    client.post(f"/portal/password/{token}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": portal_csrf(client)})
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    assert "portal_login" in {e.object_type for e in entries}  # it was audited, redacted
    text = " ".join(str(e.changes) for e in entries)
    assert "$argon2" not in text and token not in text and NEW_PASSWORD not in text
