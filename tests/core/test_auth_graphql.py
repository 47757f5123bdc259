"""Tokens, users, roles and one's own settings from the command line and GraphQL (the
README's "everything in the UI is a GraphQL field")."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backhaul.core.auth.models import ApiToken, Role, User
from backhaul.core.db import db


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[])
    with application.app_context():
        yield application


def gql(app, token, query, **variables):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables},
                                      headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


class Session:
    """A signed-in browser session speaking GraphQL (the explorer's way), used like a token."""

    def __init__(self, app, login, csrf_token, user):
        self.client = app.test_client()
        login(self.client, user)
        self.csrf = csrf_token(self.client)


def gql_session(session: Session, query, **variables):
    response = session.client.post("/graphql", json={"query": query, "variables": variables},
                                   headers={"X-CSRFToken": session.csrf})
    body = response.get_json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def test_tokens_create_cli_prints_a_working_token_once(app, cli, staff_user):
    user = staff_user(["auth.users.manage"], email="ops@example.test")
    result = cli("tokens", "create", "--email", "ops@example.test", "--name", "export",
                 "--scope", "full")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert gql(app, token, "{ viewer { email kind } }")["viewer"] == {
        "email": "ops@example.test", "kind": "token"}
    row = db.session.scalar(sa.select(ApiToken))
    assert row.user_id == user.id and token not in (row.token_hash, row.prefix)
    listed = cli("tokens", "list")
    assert "export" in listed.output and token not in listed.output
    bad = cli("tokens", "create", "--email", "ops@example.test", "--name", "x", "--scope",
              "custom", "--permission", "no.such.permission")
    assert bad.exit_code != 0 and "Unknown permission" in bad.output
    row_id = row.id
    db.session.commit()  # end this test's read transaction (SQLite snapshot)
    assert cli("tokens", "revoke", str(row_id)).exit_code == 0
    db.session.expire_all()
    row = db.session.get(ApiToken, row_id)
    assert row.revoked_at is not None


def test_tokens_never_manage_users_roles_or_tokens(app, staff_user, api_token):
    """Issue 11 #5: a full-scope token of a user manager could set another user's password
    and switch off their 2FA. Tokens manage nothing of the kind; each attempt is refused."""
    boss = staff_user(["auth.users.manage", "auth.roles.manage", "auth.tokens.manage"])
    victim = staff_user([], email="victim@example.test")
    token = api_token(boss, "full")
    before = victim.password_hash
    for mutation in (
            f'updateStaffUser(id: "{victim.id}", input: {{email: "victim@example.test", '
            f'name: "V", password: "an attacker chosen one"}})',
            f'resetStaffUserTwoFactor(id: "{victim.id}", currentPassword: "x")',
            'createStaffRole(input: {name: "R", permissions: []})',
            'createMyApiToken(input: {name: "more", scope: "full"})'):
        answer = gql(app, token, f"mutation {{ m: {mutation} {{ ok errors {{ messages }} }} }}")
        assert answer["m"]["ok"] is False
        assert "API tokens cannot manage" in answer["m"]["errors"][0]["messages"][0]
    db.session.refresh(victim)
    assert victim.password_hash == before


def test_users_roles_and_tokens_over_graphql(app, staff_user, login, csrf_token):
    boss = staff_user(["auth.users.manage", "auth.roles.manage", "auth.tokens.manage"])
    token = Session(app, login, csrf_token, boss)
    def gql(_app, session, query, **variables):  # the same calls, through the session
        return gql_session(session, query, **variables)

    role = gql(app, token, """mutation { createStaffRole(input: {name: "Front desk",
        permissions: ["auth.users.manage"]}) { ok errors { field messages }
        role { id name permissions } } }""")["createStaffRole"]
    assert role["ok"] and role["role"]["permissions"] == ["auth.users.manage"]
    beyond = gql(app, token, """mutation { createStaffRole(input: {name: "Too much",
        permissions: ["core.plugins.view"]}) { ok errors { field messages } } }""")
    assert beyond["createStaffRole"]["ok"] is False
    made = gql(app, token, """mutation($r: ID!) { createStaffUser(input: {email:
        "desk@example.test", name: "Desk", password: "a long enough secret",
        roleIds: [$r], mustChangePassword: true}) { ok errors { field messages }
        user { id email roles { name } active } } }""", r=role["role"]["id"])
    made = made["createStaffUser"]
    assert made["ok"], made
    assert made["user"]["roles"] == [{"name": "Front desk"}]
    short = gql(app, token, """mutation { createStaffUser(input: {email: "x@example.test",
        name: "X", password: "short"}) { ok errors { field } } }""")["createStaffUser"]
    assert short == {"ok": False, "errors": [{"field": "password"}]}
    off = gql(app, token, """mutation($id: ID!) { setStaffUserActive(id: $id, active: false) {
        ok user { active } } }""", id=made["user"]["id"])["setStaffUserActive"]
    assert off == {"ok": True, "user": {"active": False}}
    mine = gql(app, token, """mutation { createMyApiToken(input: {name: "cron", scope: "read"})
        { ok token apiToken { id scope status owner } } }""")["createMyApiToken"]
    assert mine["ok"] and mine["token"].startswith(mine["apiToken"]["id"] and "")
    assert globals()["gql"](app, mine["token"], "{ viewer { readOnly } }")["viewer"][
        "readOnly"] is True
    revoked = gql(app, token, """mutation($id: ID!) { revokeApiToken(id: $id) {
        ok apiToken { status } } }""", id=mine["apiToken"]["id"])["revokeApiToken"]
    assert revoked == {"ok": True, "apiToken": {"status": "revoked"}}
    zone = gql(app, token, """mutation { setMyTimeZone(timeZone: "Nowhere/Else") {
        ok errors { field } } }""")["setMyTimeZone"]
    assert zone == {"ok": False, "errors": [{"field": "timeZone"}]}
    zone = gql(app, token, """mutation { setMyTimeZone(timeZone: "Europe/Paris") {
        ok user { timeZone } } }""")["setMyTimeZone"]
    assert zone == {"ok": True, "user": {"timeZone": "Europe/Paris"}}
    deleted = gql(app, token, """mutation($id: ID!) { deleteStaffRole(id: $id) { ok } }""",
                  id=role["role"]["id"])["deleteStaffRole"]
    assert deleted == {"ok": True}
    assert db.session.scalar(sa.select(sa.func.count(Role.id)).where(
        Role.name == "Front desk")) == 0
    assert db.session.scalar(sa.select(User).where(User.email == "desk@example.test"))
