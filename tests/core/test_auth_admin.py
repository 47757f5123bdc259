"""Administration of users and roles (UI) and the ``backhaul users`` commands."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from auth_probe import PERMISSIONS, probe_plugin

from backhaul.core.auth.identity import known_permissions
from backhaul.core.auth.models import ADMINISTRATOR, AuthSession, Role, RolePermission, User
from backhaul.core.db import db


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[], extra_plugins=[probe_plugin()])
    with application.app_context():
        yield application


def signed_in(app, login, user):
    client = app.test_client()
    login(client, user)
    return client


def role_named(name):
    db.session.expire_all()
    return db.session.scalar(sa.select(Role).where(Role.name == name))


# ---------------------------------------------------------------------------- roles
def test_role_editor_lists_contributed_permissions_by_plugin(app, staff_user, login):
    client = signed_in(app, login, staff_user(["auth.roles.manage"]))
    page = client.get("/auth/roles/new").get_data(as_text=True)
    assert 'id="perms-probe"' in page and 'id="perms-auth"' in page and 'id="perms-core"' in page
    for name in PERMISSIONS + ("auth.users.manage",):
        assert f'value="{name}"' in page


def test_role_may_only_grant_known_permissions(app, staff_user, login, csrf_token):
    client = signed_in(app, login, staff_user(superuser=True))
    response = client.post("/auth/roles/new", data={
        "name": "Made up", "permissions": ["probe.thing.view", "nosuch.thing.do"],
        "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "Unknown permission(s): nosuch.thing.do" in response.get_data(as_text=True)
    assert role_named("Made up") is None
    response = client.post("/auth/roles/new", data={
        "name": "Viewers", "description": "look only",
        "permissions": ["probe.thing.view", "probe.other.view"], "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert role_named("Viewers").permission_names == {"probe.thing.view", "probe.other.view"}
    rows = db.session.scalars(sa.select(RolePermission.permission)
                              .where(RolePermission.role_id == role_named("Viewers").id)).all()
    assert sorted(rows) == ["probe.other.view", "probe.thing.view"]


def test_administrator_role_holds_every_permission(app, client, staff_user, login):
    admin = staff_user(superuser=True)
    login(client, admin)
    body = client.get("/probe/whoami").get_json()
    assert set(body["permissions"]) == known_permissions() and "probe.thing.edit" in body[
        "permissions"]
    assert role_named(ADMINISTRATOR).is_superuser


def test_builtin_role_cannot_be_deleted(app, staff_user, login, csrf_token):
    client = signed_in(app, login, staff_user(superuser=True))
    role = role_named(ADMINISTRATOR)
    response = client.post(f"/auth/roles/{role.id}/delete", data={
        "csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert role_named(ADMINISTRATOR) is not None


def test_role_manager_cannot_grant_what_they_do_not_hold(app, staff_user, login, csrf_token):
    client = signed_in(app, login, staff_user(["auth.roles.manage", "probe.thing.view"]))
    response = client.post("/auth/roles/new", data={
        "name": "Escalate", "permissions": ["auth.users.manage"],
        "csrf_token": csrf_token(client)})
    assert response.status_code == 400 and "do not hold" in response.get_data(as_text=True)
    assert role_named("Escalate") is None


# ---------------------------------------------------------------------------- users
def test_create_edit_and_deactivate_a_user(app, staff_user, login, csrf_token):
    admin_client = signed_in(app, login, staff_user(superuser=True))
    viewers = Role(name="Viewers", grants=[RolePermission(permission="probe.thing.view")])
    db.session.add(viewers)
    db.session.commit()
    short = admin_client.post("/auth/users/new", data={
        "email": "new@example.test", "name": "New", "password": "short", "roles": [viewers.id],
        "is_active": "y", "csrf_token": csrf_token(admin_client)})
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    created = admin_client.post("/auth/users/new", data={
        "email": "New@Example.test", "name": "New Person", "password": "a long enough secret",
        "roles": [viewers.id], "is_active": "y", "csrf_token": csrf_token(admin_client)})
    assert created.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.test"))
    assert [r.name for r in user.roles] == ["Viewers"]
    user.test_password = "a long enough secret"
    user_client = signed_in(app, login, user)
    assert user_client.get("/probe/view").status_code == 200
    duplicate = admin_client.post("/auth/users/new", data={
        "email": "new@example.test", "name": "Again", "password": "a long enough secret",
        "csrf_token": csrf_token(admin_client)})
    assert duplicate.status_code == 400 and "exists already" in duplicate.get_data(as_text=True)
    response = admin_client.post(f"/auth/users/{user.id}/deactivate",
                                 data={"csrf_token": csrf_token(admin_client)})
    assert response.status_code == 302
    assert user_client.get("/probe/view").status_code == 302  # signed out at once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))) == 0
    again = app.test_client()
    response = again.post("/login", data={"email": user.email, "password": user.test_password,
                                          "csrf_token": csrf_token(again)})
    assert response.status_code == 401


def test_admin_password_reset_signs_the_user_out(app, staff_user, login, csrf_token):
    user = staff_user(["probe.thing.view"], email="reset@example.test")
    user_client = signed_in(app, login, user)
    admin = staff_user(superuser=True)
    admin_client = signed_in(app, login, admin)
    form = {"email": user.email, "name": user.name, "password": "a brand new password",
            "roles": [r.id for r in user.roles], "is_active": "y"}
    # issue 11 #5: without (or with a wrong) current password of the admin: refused
    for current in ("", "not my password"):
        refused = admin_client.post(f"/auth/users/{user.id}", data={
            **form, "current_password": current, "csrf_token": csrf_token(admin_client)})
        assert refused.status_code == 400
        assert "current password is not correct" in refused.get_data(as_text=True)
        assert user_client.get("/probe/view").status_code == 200  # nothing changed
    response = admin_client.post(f"/auth/users/{user.id}", data={
        **form, "current_password": admin.test_password, "csrf_token": csrf_token(admin_client)})
    assert response.status_code == 302
    assert user_client.get("/probe/view").status_code == 302
    user.test_password = "a brand new password"
    signed_in(app, login, user)


def test_user_manager_cannot_escalate(app, staff_user, login, csrf_token):
    manager = staff_user(["auth.users.manage", "probe.thing.view"])
    client = signed_in(app, login, manager)
    from backhaul.core.auth.roles import ensure_builtin_roles

    admin_role = ensure_builtin_roles()
    db.session.commit()
    response = client.post("/auth/users/new", data={
        "email": "mole@example.test", "name": "Mole", "password": "a long enough secret",
        "roles": [admin_role.id], "is_active": "y", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "Only an administrator" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "mole@example.test")) is None
    admin = staff_user(superuser=True)
    response = client.post(f"/auth/users/{admin.id}", data={
        "email": admin.email, "name": admin.name, "password": "taken over password",
        "roles": [admin_role.id], "is_active": "y", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    signed_in(app, login, admin)  # the administrator's password is unchanged


def test_the_last_administrator_cannot_be_deactivated(app, staff_user, login, csrf_token):
    admin = staff_user(superuser=True)
    client = signed_in(app, login, admin)
    response = client.post(f"/auth/users/{admin.id}/deactivate", data={
        "csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "last active administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active


def test_unlock_clears_a_lock_out(app, staff_user, login, csrf_token):
    from backhaul.core.db import utcnow

    locked = staff_user(["probe.thing.view"])
    from datetime import timedelta

    locked.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    client = signed_in(app, login, staff_user(["auth.users.manage", "probe.thing.view"]))
    assert "locked" in client.get("/auth/users").get_data(as_text=True)
    client.post(f"/auth/users/{locked.id}/unlock", data={"csrf_token": csrf_token(client)})
    signed_in(app, login, locked)


# ---------------------------------------------------------------------------- CLI
def test_cli_create_and_list(app, cli):
    result = cli("users", "create", "--email", "ops@example.test", "--name", "Ops",
                 "--password", "a long enough secret", "--role", ADMINISTRATOR)
    assert result.exit_code == 0, result.output
    bad = cli("users", "create", "--email", "x@example.test", "--name", "X",
              "--password", "a long enough secret", "--role", "Nope")
    assert bad.exit_code != 0 and "no role named 'Nope'" in bad.output
    short = cli("users", "create", "--email", "y@example.test", "--name", "Y",
                "--password", "short")
    assert short.exit_code != 0 and "at least 12" in short.output
    prompted = cli("users", "create", "--email", "z@example.test", "--name", "Z",
                   input="a long enough secret\na long enough secret\n")
    assert prompted.exit_code == 0, prompted.output
    rows = json.loads(cli("users", "list", "--json").output)
    by_email = {r["email"]: r for r in rows}
    assert by_email["ops@example.test"]["roles"] == [ADMINISTRATOR]
    assert set(by_email) == {"ops@example.test", "z@example.test"}
    assert "password" not in json.dumps(rows)


def test_cli_ensure_admin_is_idempotent(app, cli, login):
    path = Path(app.instance_path) / "initial_admin_password"
    if path.exists():
        path.unlink()
    first = cli("users", "ensure-admin")
    assert first.exit_code == 0, first.output
    password = path.read_text().strip()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert f"admin@backhaul.local  password: {password}" in first.output
    second = cli("users", "ensure-admin")
    assert second.exit_code == 0 and f"password: {password}" in second.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    admin = db.session.scalar(sa.select(User))
    assert admin.is_superuser
    admin.test_password = password
    signed_in(app, login, admin)
    cli("users", "set-password", "--email", "admin@backhaul.local", "--password",
        "changed after first run")
    third = cli("users", "ensure-admin")
    assert "was changed after the first run" in third.output and password not in third.output
    path.unlink()


def test_cli_ensure_admin_leaves_existing_installations_alone(app, cli, staff_user):
    staff_user(superuser=True, email="boss@example.test")
    result = cli("users", "ensure-admin")
    assert result.exit_code == 0 and "exist already" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_role_manager_cannot_edit_a_role_beyond_their_permissions(app, staff_user, login,
                                                                  csrf_token):
    from backhaul.core.auth.roles import ensure_builtin_roles

    admin_role = ensure_builtin_roles()
    db.session.commit()
    client = signed_in(app, login, staff_user(["auth.roles.manage"]))
    response = client.post(f"/auth/roles/{admin_role.id}", data={
        "name": ADMINISTRATOR, "description": "hijacked", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert role_named(ADMINISTRATOR).description != "hijacked"
