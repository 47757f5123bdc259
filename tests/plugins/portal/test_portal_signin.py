"""Signing in to the portal: passwords, the throttle, CSRF, and sessions kept apart from
staff sessions (a staff cookie opens no portal page, a portal cookie no staff page)."""
from __future__ import annotations

import sqlalchemy as sa
from portal_helpers import PASSWORD, make_tenant, portal_csrf, portal_sign_in

from backhaul.sdk import db


def test_right_password_signs_in_wrong_one_is_refused_beside_the_form(app, tenant):
    client = app.test_client()
    bad = portal_sign_in(client, password="not the password at all")
    assert bad.status_code == 401
    assert "do not match" in bad.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302  # still signed out
    ok = portal_sign_in(client, email="  TINA@example.NET ")  # address case and spaces
    assert ok.status_code == 302 and ok.headers["Location"] == "/portal/"
    cookie = ok.headers["Set-Cookie"]
    assert "backhaul_portal=" in cookie and "HttpOnly" in cookie and "Path=/portal" in cookie
    assert "SameSite=Lax" in cookie
    page = client.get("/portal/")
    assert page.status_code == 200 and "Tina" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_empty_fields_are_named(app, tenant):
    client = app.test_client()
    response = client.post("/portal/login", data={"email": "", "password": "",
                                                  "csrf_token": portal_csrf(client)})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter your e-mail address." in text and "Enter your password." in text


def test_a_contact_without_portal_access_or_password_cannot_sign_in(app, tenant):
    client = app.test_client()
    nopass = make_tenant("Pat Nopass", "pat@example.net", delinquent=False, password=None)
    assert portal_sign_in(client, "pat@example.net", PASSWORD).status_code == 401
    tenant.contact.portal_access = False
    db.session.commit()
    assert portal_sign_in(client).status_code == 401
    assert nopass.contact.portal_access


def test_losing_portal_access_ends_the_session(app, customer, tenant):
    assert customer.get("/portal/").status_code == 200
    tenant.contact.portal_access = False
    db.session.commit()
    assert customer.get("/portal/").status_code == 302


def test_login_without_csrf_token_is_refused(app, tenant):
    client = app.test_client()
    response = client.post("/portal/login", data={"email": tenant.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "backhaul_portal=" not in response.headers.get("Set-Cookie", "")


def test_sign_out_needs_csrf_and_ends_the_session_on_the_server(app, customer):
    assert customer.post("/portal/logout").status_code == 400  # no token: refused
    assert customer.get("/portal/").status_code == 200
    from backhaul.plugins.portal.models import PortalSession

    response = customer.post("/portal/logout", data={"csrf_token": portal_csrf(customer)})
    assert response.status_code == 302
    assert customer.get("/portal/").status_code == 302
    row = db.session.scalar(sa.select(PortalSession))
    assert row.revoked_reason == "signed out"


def test_throttle_pauses_an_address_after_five_failures_known_or_not(app, tenant):
    client = app.test_client()
    for email in (tenant.email, "nobody@example.net"):
        for _ in range(5):
            assert portal_sign_in(client, email, "wrong password here").status_code == 401
        paused = portal_sign_in(client, email, PASSWORD if email == tenant.email else "x")
        assert paused.status_code == 429, email
        assert "Too many attempts" in paused.get_data(as_text=True)
        assert paused.headers["Retry-After"] == "60"
    # even the right password is refused while paused: guessing gains nothing
    assert client.get("/portal/").status_code == 302


def test_lockout_counts_failures_from_any_address(app, tenant):
    from backhaul.plugins.portal.models import Attempt

    db.session.add_all([Attempt(kind="login", email=tenant.email, ip=f"10.0.0.{i}",
                                success=False, reason="bad") for i in range(10)])
    db.session.commit()
    response = portal_sign_in(app.test_client())
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_staff_session_gives_no_portal_access(app, tenant, staff_user, login):
    client = app.test_client()
    login(client, staff_user(superuser=True))
    assert client.get("/accounts/").status_code == 200  # the staff side works
    response = client.get("/portal/")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
    assert client.get(f"/portal/invoices/{tenant.invoice_id}").status_code == 302


def test_portal_session_gives_no_staff_access(app, customer, tenant):
    for path in ("/accounts/", f"/billing/invoices/{tenant.invoice_id}", "/"):
        response = customer.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    graphql = customer.post("/graphql", json={"query": "{ viewer { email } }"})
    assert graphql.status_code == 401


def test_next_only_goes_inside_the_portal(app, tenant):
    client = app.test_client()
    token = portal_csrf(client)
    for target, expected in (("https://evil.example/x", "/portal/"), ("//evil.example", "/portal/"),
                             ("/accounts/", "/portal/"), ("/portal/invoices", "/portal/invoices")):
        response = client.post(f"/portal/login?next={target}",
                               data={"email": tenant.email, "password": PASSWORD,
                                     "csrf_token": token})
        assert response.headers["Location"] == expected, target


def test_only_a_hash_of_the_session_token_is_stored(app, customer):
    from backhaul.plugins.portal.models import PortalSession

    token = customer.get_cookie("backhaul_portal", path="/portal").value
    row = db.session.scalar(sa.select(PortalSession))
    assert token not in row.id and len(row.id) == 64
