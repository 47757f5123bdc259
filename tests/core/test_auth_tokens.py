"""API tokens: shown once, hashed at rest, scopes, expiry, revocation, networks, last use."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from auth_probe import EDITS, probe_plugin

from backhaul.core.auth.models import ApiToken, Role, RolePermission, User
from backhaul.core.db import db, utcnow


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[], extra_plugins=[probe_plugin()])
    with application.app_context():
        yield application


def bearer(app, token, method="GET", url="/probe/view", ip="127.0.0.1", **kwargs):
    return app.test_client().open(url, method=method, headers={
        "Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": ip}, **kwargs)


def the_token() -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(sa.select(ApiToken))


def test_token_is_shown_once_and_stored_hashed(app, client, staff_user, login, csrf_token):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    response = client.post("/auth/profile/tokens", data={
        "name": "export script", "scope": "read", "csrf_token": csrf_token(client)})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    plaintext = re.search(r'id="token-plaintext">(bh_[A-Za-z0-9_-]+)<',
                          response.get_data(as_text=True))[1]
    assert len(plaintext) >= 40
    listing = client.get("/auth/profile/tokens").get_data(as_text=True)
    assert plaintext not in listing and plaintext[:9] in listing
    row = the_token()
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = " ".join(str(getattr(row, c.key)) for c in sa.inspect(ApiToken).columns)
    assert plaintext not in stored and plaintext[9:] not in stored
    assert bearer(app, plaintext).status_code == 200


def test_read_only_token_holds_only_read_permissions(app, staff_user, api_token):
    user = staff_user(["probe.thing.view", "probe.thing.edit", "auth.roles.manage"])
    token = api_token(user, "read")
    assert bearer(app, token).status_code == 200
    EDITS.clear()
    refused = bearer(app, token, "POST", "/probe/edit")
    assert refused.status_code == 403 and EDITS == []
    assert bearer(app, token, "POST", "/auth/roles/new", data={"name": "x"}).status_code == 403
    body = bearer(app, token, url="/probe/whoami").get_json()
    assert body["permissions"] == ["probe.thing.view"]


def test_custom_scope_narrows_and_never_exceeds_the_user(app, staff_user, api_token):
    user = staff_user(["probe.thing.view", "probe.thing.edit"])
    token = api_token(user, ["probe.thing.edit"])
    assert bearer(app, token).status_code == 403  # view not in the token's scope
    assert bearer(app, token, "POST", "/probe/edit").status_code == 200
    with pytest.raises(ValueError, match="does not have"):
        api_token(user, ["probe.other.view"])
    full = api_token(user, "full")
    assert bearer(app, full).status_code == 200
    # the user loses the permission: every token loses it at once
    role = db.session.scalar(sa.select(Role).where(Role.name.like("test role%")))
    role.grants = [g for g in role.grants if g.permission != "probe.thing.edit"]
    db.session.commit()
    assert bearer(app, token, "POST", "/probe/edit").status_code == 403
    assert bearer(app, full, "POST", "/probe/edit").status_code == 403
    assert bearer(app, full).status_code == 200


def test_expired_token_is_refused_with_a_clear_message(app, staff_user, api_token):
    token = api_token(staff_user(["probe.thing.view"]), "read", expires=timedelta(hours=1))
    assert bearer(app, token).status_code == 200
    row = the_token()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = bearer(app, token)
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == "token_expired" and "expired on" in body["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_token_is_refused(app, client, staff_user, login, csrf_token, api_token):
    user = staff_user(["probe.thing.view"])
    token = api_token(user, "read")
    login(client, user)
    response = client.post(f"/auth/profile/tokens/{the_token().id}/revoke",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    response = bearer(app, token)
    assert response.status_code == 401 and response.get_json()["error"] == "token_revoked"


def test_someone_elses_token_cannot_be_revoked_from_a_profile(app, client, staff_user, login,
                                                              csrf_token, api_token):
    token = api_token(staff_user(["probe.thing.view"]), "read")
    login(client, staff_user())
    response = client.post(f"/auth/profile/tokens/{the_token().id}/revoke",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404
    assert bearer(app, token).status_code == 200


def test_token_manager_revokes_any_token(app, client, staff_user, login, csrf_token, api_token):
    token = api_token(staff_user(["probe.thing.view"]), "read")
    login(client, staff_user(["auth.tokens.manage"]))
    listing = client.get("/auth/tokens").get_data(as_text=True)
    assert token[:9] in listing and token not in listing
    client.post(f"/auth/tokens/{the_token().id}/revoke", data={"csrf_token": csrf_token(client)})
    assert bearer(app, token).status_code == 401


def test_allowed_networks(app, staff_user, api_token):
    token = api_token(staff_user(["probe.thing.view"]), "read",
                      networks=["10.0.0.0/8", "2001:db8::/32"])
    assert bearer(app, token, ip="10.20.30.40").status_code == 200
    assert bearer(app, token, ip="2001:db8::5").status_code == 200
    refused = bearer(app, token, ip="192.0.2.5")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "network_not_allowed"
    assert "10.0.0.0/8" in refused.get_json()["message"]


def test_last_used_time_and_address_are_recorded(app, staff_user, api_token):
    token = api_token(staff_user(["probe.thing.view"]), "read")
    assert the_token().last_used_at is None
    bearer(app, token, ip="10.9.8.7")
    row = the_token()
    assert row.last_used_at is not None and row.last_used_ip == "10.9.8.7"


def test_invalid_tokens_and_other_schemes(app):
    for value in ("bh_not-a-real-token", "garbage"):
        response = bearer(app, value)
        assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    basic = app.test_client().get("/probe/view", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code in (302, 401)  # other schemes are ignored: simply anonymous


def test_a_token_cannot_manage_credentials(app, staff_user, api_token):
    user = staff_user(["probe.thing.view"])
    token = api_token(user, "full")
    for url, data in (("/auth/profile/tokens", {"name": "more", "scope": "full"}),
                      ("/auth/profile/password", {"current_password": "x"}),
                      ("/auth/sign-out-everywhere", {})):
        response = bearer(app, token, "POST", url, data=data)
        assert response.status_code == 403, url
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1


def test_token_of_a_deactivated_user_stops_working(app, staff_user, api_token):
    user = staff_user(["probe.thing.view"])
    token = api_token(user, "full")
    db.session.get(User, user.id).is_active = False
    db.session.commit()
    assert bearer(app, token).get_json()["error"] == "user_inactive"


def test_token_form_validation(app, client, staff_user, login, csrf_token):
    login(client, staff_user(["probe.thing.view"]))
    for data, message in (({"scope": "read"}, "Enter a name"),
                          ({"name": "x", "scope": "custom"}, "at least one permission"),
                          ({"name": "x", "networks": "10.0.0.300/8"}, "not an IP network"),
                          ({"name": "x", "scope": "custom",
                            "permissions": ["probe.thing.edit"]}, "does not have")):
        response = client.post("/auth/profile/tokens",
                               data={**data, "csrf_token": csrf_token(client)})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_bearer_request_authenticates_in_one_statement(app, staff_user, api_token):
    """Token, user and the permissions of all the user's roles come from one SQL statement
    (nothing cached across requests: the next test shows changes apply at once)."""
    from graphql_helpers import count_statements

    user = staff_user(["probe.thing.view", "probe.thing.edit"])
    token = api_token(user, "full")
    bearer(app, token, url="/probe/whoami")  # the first use records last_used_at (a write)
    with count_statements(db.engine) as statements:
        body = bearer(app, token, url="/probe/whoami").get_json()
    assert body["permissions"] == ["probe.thing.edit", "probe.thing.view"]
    assert len(statements) == 1, statements


def test_role_changes_reach_a_token_at_its_next_request(app, staff_user, api_token):
    user = staff_user(["probe.thing.view"])
    token = api_token(user, "full")
    whoami = lambda: bearer(app, token, url="/probe/whoami").get_json()["permissions"]  # noqa: E731
    assert whoami() == ["probe.thing.view"]
    # a second role of the user grants one more permission, and one no plugin declares
    second = Role(name="second role", description="")
    second.grants = [RolePermission(permission="probe.thing.edit"),
                     RolePermission(permission="gone.plugin.view")]
    db.session.get(User, user.id).roles.append(second)
    db.session.commit()
    assert whoami() == ["probe.thing.edit", "probe.thing.view"]
    # made an Administrator: every known permission
    from backhaul.core.auth.identity import known_permissions
    from backhaul.core.auth.roles import ensure_builtin_roles

    db.session.get(User, user.id).roles.append(ensure_builtin_roles())
    db.session.commit()
    assert whoami() == sorted(known_permissions(app))
    # and no role at all: nothing
    db.session.get(User, user.id).roles = []
    db.session.commit()
    assert bearer(app, token, url="/probe/whoami").get_json()["permissions"] == []


def test_a_token_has_only_its_own_users_permissions(app, staff_user, api_token):
    """With several users holding tokens, each token carries its own user's roles only (the
    one-statement lookup once read the roles of every user who had a token: a viewer's token
    could edit)."""
    viewer = api_token(staff_user(["probe.thing.view"]), "full")
    api_token(staff_user(["probe.thing.view", "probe.thing.edit"]), "full")
    admin_user = staff_user([])
    from backhaul.core.auth.roles import ensure_builtin_roles

    db.session.get(User, admin_user.id).roles.append(ensure_builtin_roles())
    db.session.commit()
    api_token(admin_user, "full")
    assert bearer(app, viewer, url="/probe/whoami").get_json()["permissions"] == [
        "probe.thing.view"]
