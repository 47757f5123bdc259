"""Set-password links: e-mailed, expiring, used once.

The only way a contact gets (or replaces) a portal password. A link carries a random token;
the table keeps its SHA-256, so neither a database dump nor the audit trail yields a working
link. Issuing a link retires the contact's earlier unused ones; using one is a single
conditional UPDATE (used_at IS NULL and not expired), so two tabs submitting the same link
set the password once. Setting a password ends every portal session of the contact.

The e-mail goes through the notifications plugin's default e-mail channel
(``notifications.api.send_email``), so it is retried and in the delivery log like any
message. The delivery log keeps the message body, link included: that is why links expire
(``link_minutes``, default 60) and work once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.notifications.api import send_email
from backhaul.sdk import db, utcnow
from backhaul.sdk.accounts import Contact
from backhaul.sdk.passwords import hash_password, policy_problems

from . import sessions
from .models import Link, Login

RESET_REQUESTS_PER_HOUR = 3
#: requests an hour from one IP address, whatever addresses they name
RESET_REQUESTS_PER_IP_HOUR = 20


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(contact: Contact, minutes: int, requested_by: str = "") -> str:
    """A new link token for ``contact`` (earlier unused links stop working). Flushes."""
    now = utcnow()
    db.session.execute(sa.update(Link).where(Link.contact_id == contact.id,
                                             Link.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    db.session.add(Link(id=_hash(token), contact_id=contact.id, created_at=now,
                        expires_at=now + timedelta(minutes=minutes),
                        requested_by=requested_by[:200]))
    db.session.flush()
    return token


def send(contact: Contact, url: str, minutes: int, portal_name: str,
         has_password: bool) -> int | None:
    """E-mail the link to the contact; the message id, or ``None`` when no e-mail channel
    is enabled (the caller says so)."""
    what = "reset your password" if has_password else "choose a password"
    body = (f"Hello {contact.name},\n\n"
            f"Use this link to {what} for the {portal_name} customer portal:\n\n{url}\n\n"
            f"The link works once, within {minutes} minutes. If you did not ask for it, "
            "ignore this message: your password stays as it is.\n")
    return send_email(contact.email, f"{portal_name}: {what}", body,
                      account_id=contact.account_id, contact_id=contact.id,
                      category="service", source="portal.password_link")


def may_send(email: str, ip: str, now: datetime | None = None) -> bool:
    """Whether another link may be sent: at most :data:`RESET_REQUESTS_PER_HOUR` an hour for
    an address and :data:`RESET_REQUESTS_PER_IP_HOUR` from an IP (nobody floods an inbox or
    the mail queue)."""
    from .models import Attempt

    since = (now or utcnow()) - timedelta(hours=1)
    recent = sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.kind == "reset", Attempt.at > since)
    return (db.session.scalar(recent.where(Attempt.email == email)) or 0) < \
        RESET_REQUESTS_PER_HOUR and (db.session.scalar(
            recent.where(Attempt.ip == (ip or "")[:45])) or 0) < RESET_REQUESTS_PER_IP_HOUR


def valid(token: str | None) -> Link | None:
    """The live link for ``token`` (unused, not expired), or ``None``."""
    if not token or len(token) > 100:
        return None
    row = db.session.get(Link, _hash(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def set_password(token: str, password: str, confirm: str) -> Contact:
    """Use the link: check the password, set it, end the contact's sessions. Raises
    ``ValidationError`` (fields ``password``, ``confirm``, ``token``); the caller commits."""
    row = valid(token)
    if row is None:
        raise ValidationError({"token": ["This link has expired or was already used. Ask for "
                                         "a new one."]})
    contact = db.session.get(Contact, row.contact_id)
    if contact is None or not contact.portal_access or not contact.email:
        raise ValidationError({"token": ["This contact no longer has portal access."]})
    problems = policy_problems(password or "", email=contact.email)
    if problems:
        raise ValidationError({"password": problems})
    if password != confirm:
        raise ValidationError({"confirm": ["The two passwords differ."]})
    used = db.session.execute(sa.update(Link).where(
        Link.id == row.id, Link.used_at.is_(None), Link.expires_at > utcnow())
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        raise ValidationError({"token": ["This link was already used. Ask for a new one."]})
    login = db.session.get(Login, contact.id) or Login(contact_id=contact.id)
    login.password_hash = hash_password(password)
    login.password_changed_at = utcnow()
    db.session.add(login)
    sessions.revoke_all(contact.id, "password changed")
    db.session.flush()
    return contact


__all__ = ["RESET_REQUESTS_PER_HOUR", "RESET_REQUESTS_PER_IP_HOUR", "issue", "may_send", "send",
           "set_password", "valid"]
