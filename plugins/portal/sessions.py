"""Portal sessions: their own cookie and table, never the staff session.

The browser holds a random token in the ``backhaul_portal`` cookie (HttpOnly, SameSite=Lax,
Secure over HTTPS, path ``/portal``); the database holds only its SHA-256. A staff session
cookie opens nothing here and this cookie opens nothing of the staff side. Idle and absolute
timeouts are enforced on the server; a session ends when the contact loses portal access,
changes their password, or signs out.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.accounts import Contact

from .models import PortalSession

COOKIE = "backhaul_portal"
TOUCH = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(contact_id: int, absolute: timedelta, ip: str | None) -> str:
    """A new session; returns the token for the cookie (flushes)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(PortalSession(id=token_hash(token), contact_id=contact_id, created_at=now,
                                 last_seen_at=now, expires_at=now + absolute,
                                 ip=(ip or "")[:45] or None))
    db.session.flush()
    return token


def lookup(token: str | None, idle: timedelta,
           now: datetime | None = None) -> tuple[PortalSession, Contact] | None:
    """The live session and its contact, or ``None``; ends a session past its limits or
    whose contact lost portal access (the caller commits)."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = db.session.get(PortalSession, token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    contact = db.session.get(Contact, row.contact_id)
    reason = None
    if now >= row.expires_at:
        reason = "expired"
    elif now - row.last_seen_at >= idle:
        reason = "idle"
    elif contact is None or not contact.portal_access or not contact.email:
        reason = "access removed"
    if reason:
        revoke(row, reason, now)
        return None
    if now - row.last_seen_at >= TOUCH:
        row.last_seen_at = now
    return row, contact


def revoke(row: PortalSession, reason: str, now: datetime | None = None) -> None:
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = now or utcnow(), reason[:32]


def revoke_all(contact_id: int, reason: str) -> int:
    return db.session.execute(
        sa.update(PortalSession).where(PortalSession.contact_id == contact_id,
                                       PortalSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:32])
        .execution_options(synchronize_session=False)).rowcount or 0


def purge(older_than: timedelta = timedelta(days=30)) -> int:
    cutoff = utcnow() - older_than
    return db.session.execute(sa.delete(PortalSession).where(sa.or_(
        PortalSession.expires_at < cutoff, PortalSession.revoked_at < cutoff))).rowcount or 0


__all__ = ["COOKIE", "create", "lookup", "purge", "revoke", "revoke_all", "token_hash"]
