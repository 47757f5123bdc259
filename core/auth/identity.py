"""The signed-in principal of the current request.

Interface (stable, used by GraphQL, the UI shell and views):

* ``current_principal() -> Principal`` — never ``None``; anonymous when nobody signed in
  (and outside a request: CLI, jobs).
* ``Principal.is_authenticated``, ``.user`` (the staff User or None), ``.token`` (the API token
  or None), ``.has_permission(name) -> bool`` (a token's scopes narrow its user's
  permissions), ``.permissions -> frozenset[str]``; also ``.session`` (the server-side
  session row, None for tokens), ``.is_superuser`` and ``.actor`` (for the audit trail).

The principal is resolved once per request by :func:`authenticate_request` (called from the
auth layer's ``before_request``): an ``Authorization: Bearer`` token wins over the session
cookie; without either the request is anonymous.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, g, has_request_context, request, session

from ..actor import Actor
from ..db import db
from . import sessions, tokens
from .roles import user_permissions

SESSION_KEY = "sid"
MFA_KEY = "mfa"


@dataclass(frozen=True)
class Principal:
    user: object | None = None
    token: object | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    session: object | None = None
    is_superuser: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def kind(self) -> str:
        if self.token is not None:
            return "token"
        return "user" if self.user is not None else "anonymous"

    def has_permission(self, name: str) -> bool:
        return name in self.permissions

    @property
    def actor(self) -> Actor:
        if self.token is not None:
            return Actor("token", str(self.token.id),
                         f"token {self.token.prefix} of {self.user.email}")
        if self.user is not None:
            return Actor("user", str(self.user.id), self.user.email)
        return Actor("anonymous", None, "anonymous")


ANONYMOUS = Principal()


def known_permissions(app=None) -> frozenset[str]:
    """Every permission the enabled plugins declare."""
    app = app or current_app
    contributions = app.extensions.get("backhaul.contributions")
    if contributions is None:
        return frozenset()
    return frozenset(p.name for p in contributions.permissions)


def principal_for_user(user, session_row=None) -> Principal:
    return Principal(user=user, permissions=user_permissions(user, known_permissions()),
                     session=session_row, is_superuser=user.is_active and user.is_superuser)


def principal_for_token(token, grants: tokens.Grants | None = None) -> Principal:
    return Principal(user=token.user, token=token,
                     permissions=tokens.token_permissions(token, known_permissions(), grants),
                     is_superuser=False)


def current_principal() -> Principal:
    if not has_request_context():
        return ANONYMOUS
    return g.get("backhaul_principal", ANONYMOUS)


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header (other schemes are ignored)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate_request() -> tuple[Principal, tokens.Rejection | None]:
    """Resolve who makes the current request (commits bookkeeping writes)."""
    presented = bearer_token()
    if presented is not None:
        token, rejection, grants = tokens.authenticate_with_grants(presented,
                                                                   request.remote_addr)
        _commit_if_changed()
        if rejection is not None:
            return ANONYMOUS, rejection
        return principal_for_token(token, grants), None
    sid = session.get(SESSION_KEY)
    if not sid:
        return ANONYMOUS, None
    row = sessions.lookup(sid, sessions.Timeouts.from_config(current_app.config))
    _commit_if_changed()
    if row is None:
        session.pop(SESSION_KEY, None)
        g.backhaul_session_ended = True
        return ANONYMOUS, None
    return principal_for_user(row.user, row), None


def _commit_if_changed() -> None:
    """Commit bookkeeping (last seen, last used, a revocation) without expiring loaded rows
    needlessly when nothing changed."""
    if db.session.dirty or db.session.new or db.session.deleted:
        db.session.commit()
