"""Server-side sessions: create, look up (enforcing idle and absolute timeouts), revoke.

The browser holds a random token inside Flask's signed cookie; the database holds only its
SHA-256, so a leaked database does not yield usable sessions. Timeouts are enforced here, on
the server, whatever the cookie says; revoking a row signs that browser out at its next
request ("sign out everywhere" revokes every row of a user).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..db import db, utcnow
from .models import AuthSession, User

log = logging.getLogger("backhaul.security")

FULL = "full"
MFA_PENDING = "mfa"


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta
    mfa: timedelta = timedelta(minutes=5)
    touch: timedelta = timedelta(seconds=60)

    @classmethod
    def from_config(cls, config) -> Timeouts:
        return cls(idle=timedelta(minutes=int(config.get("SESSION_IDLE_MINUTES", 30))),
                   absolute=timedelta(hours=int(config.get("SESSION_ABSOLUTE_HOURS", 12))),
                   mfa=timedelta(minutes=int(config.get("AUTH_MFA_PENDING_MINUTES", 5))),
                   touch=timedelta(seconds=int(config.get("AUTH_SESSION_TOUCH_SECONDS", 60))))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, timeouts: Timeouts, stage: str = FULL, ip: str | None = None,
           user_agent: str | None = None, now: datetime | None = None) -> tuple[str, AuthSession]:
    """A new session for ``user``; returns ``(token for the cookie, row)``."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    lifetime = timeouts.absolute if stage == FULL else timeouts.mfa
    row = AuthSession(id=token_hash(token), user=user, user_id=user.id, stage=stage,
                      created_at=now, last_seen_at=now, expires_at=now + lifetime,
                      ip=(ip or "")[:45] or None, user_agent=(user_agent or "")[:255] or None)
    db.session.add(row)
    db.session.flush()
    return token, row


def lookup(token: str | None, timeouts: Timeouts, stage: str = FULL,
           now: datetime | None = None) -> AuthSession | None:
    """The live session for ``token``, or ``None``.

    A session past its idle or absolute limit is revoked on the spot (reason ``idle`` or
    ``expired``) so it can never come back. A live session's ``last_seen_at`` is refreshed at
    most once per ``timeouts.touch`` (not one write per request). The caller commits.
    """
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = db.session.get(AuthSession, token_hash(token))
    if row is None or row.revoked_at is not None or row.stage != stage:
        return None
    reason = None
    if now >= row.expires_at:
        reason = "expired"
    elif stage == FULL and now - row.last_seen_at >= timeouts.idle:
        reason = "idle"
    elif not row.user.is_active:
        reason = "user inactive"
    if reason:
        revoke(row, reason, now)
        log.info("session of user %s ended: %s", row.user_id, reason)
        return None
    if now - row.last_seen_at >= timeouts.touch:
        row.last_seen_at = now
    return row


def revoke(row: AuthSession, reason: str, now: datetime | None = None) -> None:
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        row.revoked_reason = reason[:32]


def revoke_all(user: User, reason: str, keep: AuthSession | None = None,
               now: datetime | None = None) -> int:
    """Revoke every live session of ``user`` except ``keep``; returns how many."""
    query = (sa.update(AuthSession)
             .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
             .values(revoked_at=now or utcnow(), revoked_reason=reason[:32])
             .execution_options(synchronize_session="fetch"))
    if keep is not None:
        query = query.where(AuthSession.id != keep.id)
    return db.session.execute(query).rowcount or 0


def live_sessions(user: User, now: datetime | None = None) -> list[AuthSession]:
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None),
               AuthSession.stage == FULL, AuthSession.expires_at > now)
        .order_by(AuthSession.last_seen_at.desc())))


def purge(older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
    """Delete sessions that ended more than ``older_than`` ago (periodic housekeeping)."""
    cutoff = (now or utcnow()) - older_than
    result = db.session.execute(sa.delete(AuthSession).where(sa.or_(
        AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff)))
    return result.rowcount or 0
