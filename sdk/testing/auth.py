"""Signed-in tests: staff users, a real sign-in, API tokens and the four principals of a
permission matrix. Registered as fixtures by the test kit's pytest plugin.

* ``staff_user(permissions=[...], email=None, superuser=False, ...)`` -> a committed ``User``
  (its password is ``user.test_password``); unknown permission names fail loudly, so a typo
  cannot make a test pass.
* ``admin_user`` -> a user holding the built-in Administrator role.
* ``login(client, user)`` -> signs in through the real form (CSRF token, password, and the
  second factor when the user has one); fails the test if sign-in does not succeed.
* ``api_token(user, scopes="read" | "full" | [names], expires=None, networks=None)`` -> the
  plaintext token (send it as ``Authorization: Bearer ...``).
* ``csrf_token(client)`` -> a CSRF token for that client's session (form field
  ``csrf_token`` or header ``X-CSRFToken``).
* ``matrix_principals(permission)`` -> :class:`Principals`: ``anonymous``, ``without`` (a
  user holding every known permission except this one), ``read_token`` (a read-only token of
  a user who holds it) and ``allowed`` (a signed-in user holding just this permission).

These need an app context (the ``app`` fixture, or ``with make_app(...).app_context():``).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import current_app

DEFAULT_PASSWORD = "correct horse battery staple"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_serial = itertools.count(1)


@functools.lru_cache(maxsize=1)
def _default_hash() -> str:
    """One real argon2id hash of the default password, computed once per test process."""
    from backhaul.core.auth.passwords import hash_password

    return hash_password(DEFAULT_PASSWORD)


def _app():
    try:
        return current_app._get_current_object()
    except RuntimeError:
        raise RuntimeError("the auth test helpers need an app context: use the `app` fixture "
                           "or `with make_app(...).app_context():`") from None


def make_staff_user(permissions=(), email: str | None = None, name: str | None = None,
                    password: str | None = None, superuser: bool = False, active: bool = True,
                    totp: bool = False):
    """Create and commit a staff user holding exactly ``permissions`` (through a test role)."""
    from backhaul.core.auth import totp as totplib
    from backhaul.core.auth.identity import known_permissions
    from backhaul.core.auth.models import Role, RolePermission, User
    from backhaul.core.auth.passwords import hash_password
    from backhaul.core.auth.roles import ensure_builtin_roles
    from backhaul.core.db import db

    app = _app()
    permissions = sorted(set(permissions))
    unknown = sorted(set(permissions) - known_permissions(app))
    if unknown:
        raise ValueError(f"unknown permission(s) {unknown}: no enabled plugin declares them "
                         "(check the name, or enable the plugin in make_app)")
    n = next(_serial)
    email = (email or f"staff{n}@example.test").lower()
    user = User(email=email, name=name or f"Staff {n}", is_active=active,
                password_hash=_default_hash() if password is None else hash_password(password))
    roles = []
    if superuser:
        roles.append(ensure_builtin_roles())
    if permissions:
        role = Role(name=f"test role {n} ({email})", description="created by a test")
        role.grants = [RolePermission(permission=p) for p in permissions]
        roles.append(role)
    user.roles = roles
    db.session.add(user)
    if totp:
        totplib.start_enrolment(user, app.secret_key)
        user.totp_enabled = True
    db.session.commit()
    user.test_password = DEFAULT_PASSWORD if password is None else password
    return user


def csrf_token_for(client) -> str:
    response = client.get("/auth/csrf-token")
    assert response.status_code == 200, f"no CSRF token: {response.status_code}"
    return response.get_json()["csrf_token"]


def totp_code(user) -> str:
    """The code ``user``'s authenticator shows now."""
    from backhaul.core.auth import totp as totplib
    from backhaul.core.db import db

    db.session.refresh(user)
    return totplib.current_code(user, _app().secret_key)


def sign_in(client, user, password: str | None = None, code: str | None = None):
    """Sign in through the real form; fails the test if it does not succeed."""
    password = password if password is not None else getattr(user, "test_password",
                                                              DEFAULT_PASSWORD)
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": csrf_token_for(client)})
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/login/verify" in location:
        response = client.post("/login/verify", data={
            "code": code or totp_code(user), "csrf_token": csrf_token_for(client)})
        location = response.headers.get("Location", "")
    if response.status_code != 302 or "/login" in location:
        raise AssertionError(f"sign-in of {user.email} failed: HTTP {response.status_code} "
                             f"{response.get_data(as_text=True)[:300]}")
    return response


def fast_sign_in(client, user) -> None:
    """A server-side session for ``user`` without the form (for large matrices)."""
    from backhaul.core.auth import sessions
    from backhaul.core.auth.identity import SESSION_KEY
    from backhaul.core.db import db

    token, _ = sessions.create(user, sessions.Timeouts.from_config(_app().config),
                               ip="127.0.0.1", user_agent="test")
    db.session.commit()
    with client.session_transaction() as flask_session:
        flask_session.clear()
        flask_session[SESSION_KEY] = token


def create_api_token(user, scopes="read", expires: datetime | timedelta | None = None,
                     networks=None, name: str = "test token") -> str:
    """Create and commit a token for ``user``; returns the plaintext."""
    from backhaul.core.auth import tokens
    from backhaul.core.auth.identity import known_permissions
    from backhaul.core.db import db, utcnow

    if isinstance(scopes, str):
        scope, names = scopes, ()
    else:
        scope, names = "custom", list(scopes)
    if isinstance(expires, timedelta):
        expires = utcnow() + expires
    plaintext, _ = tokens.create(user, name, scope, names, known=known_permissions(_app()),
                                 expires_at=expires, networks=networks)
    db.session.commit()
    return plaintext


@dataclass
class PrincipalClient:
    """A test client acting as one principal. State-changing requests of cookie-based
    principals carry a valid CSRF token, so a matrix tests permissions, not CSRF."""

    name: str
    client: object
    headers: dict = field(default_factory=dict)
    cookie_based: bool = True

    def open(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.cookie_based and method.upper() in UNSAFE_METHODS:
            headers.setdefault("X-CSRFToken", csrf_token_for(self.client))
        return self.client.open(url, method=method.upper(), headers=headers, **kwargs)

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs):
        return self.open("POST", url, **kwargs)


@dataclass
class Principals:
    """The four principals of a permission matrix for one permission."""

    permission: str | None
    anonymous: PrincipalClient
    without: PrincipalClient | None
    read_token: PrincipalClient
    allowed: PrincipalClient

    def all(self) -> list[PrincipalClient]:
        return [p for p in (self.anonymous, self.without, self.read_token, self.allowed) if p]


def build_principals(permission: str | None) -> Principals:
    """Fresh clients (fresh sessions) for each principal; ``None``: any signed-in user."""
    from backhaul.core.auth.identity import known_permissions

    app = _app()
    held = [permission] if permission else []
    without = None
    if permission is not None:
        others = sorted(known_permissions(app) - {permission})
        other_user = make_staff_user(others)
        without = PrincipalClient("without", app.test_client())
        fast_sign_in(without.client, other_user)
    allowed_user = make_staff_user(held)
    allowed = PrincipalClient("allowed", app.test_client())
    fast_sign_in(allowed.client, allowed_user)
    token = create_api_token(make_staff_user(held), "read")
    return Principals(permission, PrincipalClient("anonymous", app.test_client()), without,
                      PrincipalClient("read_token", app.test_client(),
                                      {"Authorization": f"Bearer {token}"}, cookie_based=False),
                      allowed)


@pytest.fixture
def staff_user():
    """``staff_user(permissions=[...], email=None, superuser=False, totp=False)`` -> User."""
    return make_staff_user


@pytest.fixture
def admin_user(backhaul_app):
    """A user holding the built-in Administrator role (every permission)."""
    return make_staff_user(superuser=True, name="Test Administrator")


@pytest.fixture
def login():
    """``login(client, user, password=None, code=None)``: a real sign-in through the form."""
    return sign_in


@pytest.fixture
def api_token():
    """``api_token(user, scopes="read" | "full" | [names], expires=None, networks=None)``."""
    return create_api_token


@pytest.fixture
def csrf_token():
    """``csrf_token(client)`` -> a valid CSRF token for that client's session."""
    return csrf_token_for


@pytest.fixture
def matrix_principals():
    """``matrix_principals(permission)`` -> :class:`Principals` (see the module docstring)."""
    return build_principals
