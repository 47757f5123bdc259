"""Server-side sessions (timeouts, cookie flags), CSRF, request size, default deny, actor."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from auth_probe import EDITS, probe_plugin

from backhaul.core.auth.models import AuthSession, Role
from backhaul.core.db import db, utcnow


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[], extra_plugins=[probe_plugin()],
                           SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=12,
                           MAX_CONTENT_LENGTH=64 * 1024)
    with application.app_context():
        yield application


def only_session(user) -> AuthSession:
    db.session.expire_all()
    return db.session.scalar(sa.select(AuthSession).where(AuthSession.user_id == user.id,
                                                          AuthSession.stage == "full"))


# ---------------------------------------------------------------------------- timeouts
def test_idle_timeout_is_enforced_server_side(app, client, staff_user, login):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    row = only_session(user)
    row.last_seen_at = utcnow() - timedelta(minutes=29)
    db.session.commit()
    assert client.get("/probe/view").status_code == 200  # still within 30 minutes
    row = only_session(user)
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    response = client.get("/probe/view")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    row = only_session(user)
    assert row.revoked_at is not None and row.revoked_reason == "idle"
    # the same cookie never comes back, even if the row were touched again
    row.last_seen_at = utcnow()
    db.session.commit()
    assert client.get("/probe/view").status_code == 302


def test_activity_extends_the_idle_window_but_not_the_absolute_one(app, client, staff_user,
                                                                    login):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    row = only_session(user)
    row.last_seen_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    client.get("/probe/view")
    assert only_session(user).last_seen_at > utcnow() - timedelta(minutes=1)
    row = only_session(user)
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)
    row.expires_at = row.created_at + timedelta(hours=12)
    db.session.commit()
    assert client.get("/probe/view", headers={"Accept": "application/json"}).status_code == 401
    assert only_session(user).revoked_reason == "expired"


def test_idle_timeout_follows_the_setting(make_app, staff_user, login):
    app = make_app(plugins=[], extra_plugins=[probe_plugin()], SESSION_IDLE_MINUTES=2)
    with app.app_context():
        client = app.test_client()
        user = staff_user(["probe.thing.view"])
        login(client, user)
        row = only_session(user)
        row.last_seen_at = utcnow() - timedelta(minutes=3)
        db.session.commit()
        assert client.get("/probe/view").status_code == 302


def test_absolute_lifetime_follows_the_setting(app, client, staff_user, login):
    user = staff_user()
    login(client, user)
    row = only_session(user)
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_deactivating_a_user_ends_their_sessions(app, client, staff_user, login):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    user.is_active = False
    db.session.commit()
    assert client.get("/probe/view").status_code == 302


# ---------------------------------------------------------------------------- cookie
def test_cookie_flags_http_and_https(app, staff_user):
    plain = app.test_client()
    response = plain.get("/auth/csrf-token")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("backhaul_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    response = secure.get("/auth/csrf-token", base_url="https://backhaul.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_cookie_secure_can_be_forced(make_app):
    app = make_app(plugins=[], SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/auth/csrf-token")
    assert "Secure" in response.headers["Set-Cookie"]


# ---------------------------------------------------------------------------- CSRF
def _role_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Role.id)))


@pytest.mark.parametrize("token", [None, "forged-token", "other-session"])
def test_missing_or_forged_csrf_token_is_refused_and_changes_nothing(
        app, client, staff_user, login, csrf_token, token):
    user = staff_user(["auth.roles.manage", "probe.thing.edit"])
    login(client, user)
    if token == "other-session":
        token = csrf_token(app.test_client())
    data = {"name": "Sneaky", "permissions": ["probe.thing.edit"]}
    if token:
        data["csrf_token"] = token
    before = _role_count()
    EDITS.clear()
    response = client.post("/auth/roles/new", data=data)
    assert response.status_code == 400
    assert "security token is missing or invalid" in response.get_data(as_text=True)
    assert _role_count() == before
    json_response = client.post("/probe/edit", json={}, headers={"X-CSRFToken": token or ""})
    assert json_response.status_code == 400
    assert json_response.get_json()["error"] == "csrf_failed"
    assert EDITS == []
    accepted = client.post("/auth/roles/new", data={**data, "csrf_token": csrf_token(client)})
    assert accepted.status_code == 302 and _role_count() == before + 1


def test_sign_in_form_itself_is_csrf_protected(app, client, staff_user):
    user = staff_user()
    response = client.post("/login", data={"email": user.email, "password": user.test_password})
    assert response.status_code == 400
    with client.session_transaction() as flask_session:
        assert "sid" not in flask_session


def test_bearer_token_requests_need_no_csrf_token(app, staff_user, api_token):
    user = staff_user(["probe.thing.edit"])
    token = api_token(user, "full")
    EDITS.clear()
    response = app.test_client().post("/probe/edit", headers={
        "Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(EDITS) == 1


def test_session_posts_to_graphql_need_the_csrf_token(app, client, staff_user, login,
                                                      csrf_token):
    user = staff_user()
    login(client, user)
    refused = client.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"
    accepted = client.post("/graphql", json={"query": "{ __typename }"},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert accepted.status_code != 400


# ---------------------------------------------------------------------------- size limit
def test_oversized_request_gets_a_clear_413(app, client, staff_user, login, api_token):
    big = "x" * (65 * 1024)
    response = client.post("/login", data={"email": "a@example.test", "password": big})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    token = api_token(staff_user(["probe.thing.edit"]), "full")
    response = app.test_client().post("/probe/edit", data=big, content_type="application/json",
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"


# ---------------------------------------------------------------------------- default deny
def test_every_view_requires_sign_in_unless_public(app, client, staff_user, login):
    assert client.get("/probe/open").status_code == 302
    assert client.get("/probe/open", headers={"Accept": "application/json"}).status_code == 401
    assert client.post("/probe/open").status_code in (302, 401)
    public = client.get("/probe/public")
    assert public.status_code == 200 and public.get_json()["authenticated"] is False
    assert client.get("/health").status_code == 200
    login(client, staff_user())
    assert client.get("/probe/open").status_code == 200


def test_anonymous_api_request_gets_401_json(app):
    response = app.test_client().get("/probe/view", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_permission_gets_403_naming_it(app, client, staff_user, login):
    login(client, staff_user(["probe.other.view"]))
    response = client.get("/probe/view")
    assert response.status_code == 403
    assert "probe.thing.view" in response.get_data(as_text=True)
    response = client.get("/probe/view", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.get_json()["permission"] == \
        "probe.thing.view"


def test_the_current_actor_is_the_signed_in_user(app, client, staff_user, login, api_token):
    user = staff_user(["probe.thing.view"], email="actor@example.test")
    login(client, user)
    body = client.get("/probe/whoami").get_json()
    assert body["actor_kind"] == "user" and body["actor"] == "user:actor@example.test"
    token = api_token(user, "read")
    body = app.test_client().get("/probe/whoami", headers={
        "Authorization": f"Bearer {token}"}).get_json()
    assert body["actor_kind"] == "token"
    assert body["actor"] == f"token:token {token[:9]} of actor@example.test"
    from backhaul.core.actor import current_actor

    assert current_actor().kind == "system"  # reset after the request


def test_signed_in_pages_are_not_cached(app, client, staff_user, login):
    assert "no-store" not in client.get("/probe/public").headers.get("Cache-Control", "")
    login(client, staff_user(["probe.thing.view"]))
    assert client.get("/probe/view").headers["Cache-Control"] == "no-store"
