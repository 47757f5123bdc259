"""Sign-in: generic failures, throttling and lock-out, rehash, two-factor, sign-out."""
from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from auth_probe import probe_plugin

from backhaul.core.auth import totp
from backhaul.core.auth.login import GENERIC_FAILURE
from backhaul.core.auth.models import AuthSession, LoginAttempt, User
from backhaul.core.auth.passwords import needs_rehash
from backhaul.core.db import db, utcnow


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[], extra_plugins=[probe_plugin()],
                           AUTH_THROTTLE_ATTEMPTS=3, AUTH_LOCKOUT_THRESHOLD=4,
                           AUTH_LOCKOUT_MINUTES=15)
    with application.app_context():
        yield application


def post_login(client, csrf_token, email, password, ip="198.51.100.7"):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": ip})


def page(response) -> str:
    """The page without its (per-request) CSRF token."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def fresh(obj):
    db.session.expire_all()
    db.session.refresh(obj)
    return obj


def test_wrong_password_and_unknown_address_get_the_same_generic_answer(
        app, client, staff_user, csrf_token):
    user = staff_user(email="ann@example.test")
    wrong = post_login(client, csrf_token, user.email, "not the password")
    unknown = post_login(client, csrf_token, "nobody@example.test", "not the password")
    inactive_user = staff_user(email="gone@example.test", active=False)
    inactive = post_login(client, csrf_token, inactive_user.email, inactive_user.test_password)
    for response in (wrong, unknown, inactive):
        assert response.status_code == 401
        assert GENERIC_FAILURE in response.get_data(as_text=True)
    assert page(wrong) == page(unknown).replace("nobody@example.test", user.email)
    with client.session_transaction() as flask_session:
        assert "sid" not in flask_session
    reasons = db.session.scalars(sa.select(LoginAttempt.reason).order_by(LoginAttempt.id)).all()
    assert reasons == ["wrong password", "unknown address", "deactivated"]


def test_unknown_address_costs_about_as_much_time_as_a_wrong_password(
        app, client, staff_user, csrf_token):
    user = staff_user()

    def fastest(email, ip):
        times = []
        for _ in range(2):
            started = time.perf_counter()
            post_login(client, csrf_token, email, "wrong password!", ip=ip)
            times.append(time.perf_counter() - started)
        return min(times)

    known = fastest(user.email, "198.51.100.1")
    unknown = fastest("nobody@example.test", "198.51.100.2")
    assert unknown > known * 0.4, (known, unknown)


def test_successful_sign_in_sets_a_server_side_session(app, client, staff_user, login):
    user = staff_user(["probe.thing.view"])
    assert client.get("/probe/view").status_code == 302
    login(client, user)
    assert client.get("/probe/view").status_code == 200
    row = db.session.scalar(sa.select(AuthSession).where(AuthSession.user_id == user.id))
    with client.session_transaction() as flask_session:
        assert set(flask_session) <= {"sid", "csrf_token", "_flashes"}
        assert flask_session["sid"] != row.id  # the cookie holds the token, the DB its hash
    assert row.stage == "full" and row.revoked_at is None
    assert fresh(user).last_login_at is not None


def test_sign_in_replaces_the_cookie_session(app, client, staff_user, csrf_token, login):
    """No session fixation: whatever the cookie held before sign-in is discarded."""
    user = staff_user()
    with client.session_transaction() as flask_session:
        flask_session["sid"] = "planted-by-an-attacker"
    before = csrf_token(client)
    login(client, user)
    with client.session_transaction() as flask_session:
        assert flask_session["sid"] != "planted-by-an-attacker"
    assert csrf_token(client) != before


def test_next_parameter_only_redirects_within_the_site(app, client, staff_user, csrf_token):
    user = staff_user()
    for target, expected in (("/probe/public", "/probe/public"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/")):
        client.post("/logout", data={"csrf_token": csrf_token(client)})
        response = client.post(f"/login?next={target}", data={
            "email": user.email, "password": user.test_password,
            "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        assert response.headers["Location"] == expected


def test_throttle_per_address_and_ip(app, client, staff_user, csrf_token):
    user = staff_user()
    for _ in range(3):
        assert post_login(client, csrf_token, user.email, "wrong", ip="203.0.113.1"
                          ).status_code == 401
    refused = post_login(client, csrf_token, user.email, user.test_password, ip="203.0.113.1")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.get_data(as_text=True)
    # the same address from another IP is not throttled (3 < lock-out threshold 4)
    assert post_login(client, csrf_token, user.email, user.test_password, ip="203.0.113.2"
                      ).status_code == 302
    # an unknown address is throttled exactly the same way (no enumeration)
    for _ in range(3):
        post_login(client, csrf_token, "ghost@example.test", "wrong", ip="203.0.113.1")
    assert post_login(client, csrf_token, "ghost@example.test", "x", ip="203.0.113.1"
                      ).status_code == 429


def test_lock_out_after_repeated_failures_then_unlock_after_the_window(
        app, client, staff_user, csrf_token):
    user = staff_user()
    ips = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"]
    for ip in ips:  # spread over IPs, as a distributed guess would be
        assert post_login(client, csrf_token, user.email, "wrong", ip=ip).status_code == 401
    assert fresh(user).locked_until is not None
    # locked: even the right password, from a fresh IP, is refused without being checked
    refused = post_login(client, csrf_token, user.email, user.test_password, ip="192.0.2.99")
    assert refused.status_code == 429
    assert "Wait 15 minutes" in refused.get_data(as_text=True)
    # the window passes
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert post_login(client, csrf_token, user.email, user.test_password, ip="192.0.2.99"
                      ).status_code == 302
    assert fresh(user).locked_until is None and user.failed_login_count == 0


def test_unknown_address_is_locked_like_a_real_one(app, client, csrf_token):
    for ip in ["192.0.2.20", "192.0.2.21", "192.0.2.22", "192.0.2.23"]:
        post_login(client, csrf_token, "ghost@example.test", "wrong", ip=ip)
    refused = post_login(client, csrf_token, "ghost@example.test", "wrong", ip="192.0.2.99")
    assert refused.status_code == 429 and "Wait 15 minutes" in refused.get_data(as_text=True)


def test_password_is_rehashed_when_parameters_changed(app, client, staff_user, login):
    user = staff_user(password="an old but long password")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(
        "an old but long password")
    db.session.commit()
    assert needs_rehash(user.password_hash)
    login(client, user)
    assert not needs_rehash(fresh(user).password_hash)


def test_totp_enrolment_and_two_step_sign_in(app, client, staff_user, login, csrf_token):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    # enrolment needs the current password (a wrong one: test_wrong_current_passwords...)
    response = client.post("/auth/profile/totp/start", data={
        "current_password": user.test_password, "csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "otpauth://totp/" in page
    assert response.headers["Cache-Control"] == "no-store"
    seed = page.split('id="totp-seed">')[1].split("<")[0]
    assert seed not in fresh(user).totp_secret  # stored encrypted
    assert totp.decrypt_seed(user.totp_secret, app.secret_key) == seed
    wrong = client.post("/auth/profile/totp/confirm", data={
        "code": "000000", "csrf_token": csrf_token(client)})
    assert wrong.status_code == 400 and not fresh(user).totp_enabled
    code = totp.current_code(user, app.secret_key)
    confirmed = client.post("/auth/profile/totp/confirm", data={
        "code": code, "csrf_token": csrf_token(client)})
    assert confirmed.status_code == 302 and fresh(user).totp_enabled

    # sign in again: the password alone is not enough
    other = app.test_client()
    step1 = other.post("/login", data={"email": user.email, "password": user.test_password,
                                       "csrf_token": csrf_token(other)})
    assert step1.status_code == 302 and "/login/verify" in step1.headers["Location"]
    assert other.get("/probe/view").status_code == 302  # not signed in between the steps
    bad = other.post("/login/verify", data={"code": "123456", "csrf_token": csrf_token(other)})
    assert bad.status_code == 401 and "not correct" in bad.get_data(as_text=True)
    # the code used for enrolment cannot be replayed
    replay = other.post("/login/verify", data={"code": code, "csrf_token": csrf_token(other)})
    assert replay.status_code == 401
    next_code = totp.current_code(user, app.secret_key, now=time.time() + 30)
    good = other.post("/login/verify", data={"code": next_code,
                                             "csrf_token": csrf_token(other)})
    assert good.status_code == 302
    assert other.get("/probe/view").status_code == 200
    reasons = db.session.scalars(sa.select(LoginAttempt.reason)
                                 .where(LoginAttempt.reason == "wrong TOTP code")).all()
    assert len(reasons) == 2


def test_pending_second_factor_expires(app, client, staff_user, csrf_token):
    user = staff_user(totp=True)
    client.post("/login", data={"email": user.email, "password": user.test_password,
                                "csrf_token": csrf_token(client)})
    pending = db.session.scalar(sa.select(AuthSession).where(AuthSession.stage == "mfa"))
    pending.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post("/login/verify", data={"code": totp.current_code(
        user, app.secret_key), "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_logout_revokes_the_session_server_side(app, client, staff_user, login, csrf_token):
    user = staff_user(["probe.thing.view"])
    login(client, user)
    with client.session_transaction() as flask_session:
        stolen = flask_session["sid"]
    assert client.get("/logout").status_code == 200  # a confirmation page, not a GET action
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    row = db.session.scalar(sa.select(AuthSession).where(AuthSession.user_id == user.id))
    assert row.revoked_at is not None and row.revoked_reason == "signed out"
    replayed = app.test_client()  # a copy of the old cookie is useless now
    with replayed.session_transaction() as flask_session:
        flask_session["sid"] = stolen
    assert replayed.get("/probe/view").status_code == 302


def test_sign_out_everywhere_revokes_other_sessions(app, staff_user, login, csrf_token):
    user = staff_user(["probe.thing.view"])
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    assert phone.get("/probe/view").status_code == 200
    response = laptop.post("/auth/sign-out-everywhere", data={"csrf_token": csrf_token(laptop)})
    assert response.status_code == 302
    assert phone.get("/probe/view").status_code == 302
    assert laptop.get("/probe/view").status_code == 302
    live = db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)))
    assert live == 0


def test_security_log_never_contains_secrets(app, client, staff_user, csrf_token, api_token,
                                             caplog):
    user = staff_user(totp=True)
    secret_password = "Sup3r-secret-typed-password"
    token = api_token(user, "read")
    with caplog.at_level(logging.INFO):
        post_login(client, csrf_token, user.email, secret_password)
        client.post("/login", data={"email": user.email, "password": user.test_password,
                                    "csrf_token": csrf_token(client)})
        client.post("/login/verify", data={"code": "654321", "csrf_token": csrf_token(client)})
        app.test_client().get("/probe/view", headers={"Authorization": f"Bearer {token}x"})
        db.session.execute(sa.update(User).values(is_active=False))
        db.session.commit()
        app.test_client().get("/probe/view", headers={"Authorization": f"Bearer {token}"})
    text = caplog.text
    assert "sign-in failed" in text and "API token refused" in text
    for secret in (secret_password, user.test_password, "654321", token, token[3:20]):
        assert secret not in text
    with client.session_transaction() as flask_session:
        for value in flask_session.values():
            assert str(value) not in text


def test_security_events_reach_the_audit_trail_without_secrets(app, client, staff_user,
                                                               csrf_token, login):
    from backhaul.core.audit.models import AuditEntry

    user = staff_user(["probe.thing.view"])
    post_login(client, csrf_token, user.email, "a wrong password")
    login(client, user)
    client.post("/auth/profile/password", data={
        "current_password": user.test_password, "new_password": "another long password",
        "confirm_password": "another long password", "csrf_token": csrf_token(client)})
    client.post("/auth/sign-out-everywhere", data={"csrf_token": csrf_token(client)})
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
    actions = [(e.action, e.object_type) for e in entries if e.object_type == "auth_user"]
    assert ("auth.login_failed", "auth_user") in actions
    assert ("auth.login", "auth_user") in actions
    assert ("auth.signed_out_everywhere", "auth_user") in actions
    password_change = [e for e in entries if e.object_type == "auth_user" and e.changes
                       and "password_hash" in e.changes]
    assert password_change and password_change[-1].changes["password_hash"]["after"] == "***"
    assert password_change[-1].actor_kind == "user"
    assert not [e for e in entries if e.object_type in ("auth_session", "auth_login_attempt")]
    dump = " ".join(str(e.changes) for e in entries)
    for secret in (user.test_password, "another long password", "a wrong password"):
        assert secret not in dump


def test_sign_in_is_audited_as_the_user_who_signed_in(app, client, staff_user, login):
    from backhaul.core.audit.models import AuditEntry

    user = staff_user()
    login(client, user)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "auth.login"))
    assert entry is not None
    assert (entry.actor_kind, entry.actor_id, entry.actor_label) == ("user", str(user.id),
                                                                     user.email)


def test_wrong_current_passwords_count_like_sign_in_failures_and_end_the_session(
        app, client, staff_user, login, csrf_token):
    """Issue 11 #8: the profile's current-password check was not throttled."""
    user = staff_user(["probe.thing.view"])
    login(client, user)
    threshold = app.config["AUTH_LOCKOUT_THRESHOLD"]
    for attempt in range(threshold):
        response = client.post("/auth/profile/totp/start", data={
            "current_password": f"guess {attempt}", "csrf_token": csrf_token(client)})
        if attempt < threshold - 1:
            assert response.status_code == 400 and fresh(user).totp_secret is None
    assert response.status_code == 302  # the last wrong guess ended the session
    assert client.get("/probe/view").status_code == 302
    assert fresh(user).locked_until is not None
    reasons = db.session.scalars(sa.select(LoginAttempt.reason).where(
        LoginAttempt.reason == "wrong current password")).all()
    assert len(reasons) == threshold
    other = app.test_client()  # the right password does not get in while locked
    refused = other.post("/login", data={"email": user.email, "password": user.test_password,
                                         "csrf_token": csrf_token(other)})
    assert refused.status_code in (401, 429)
