"""Who may sign in to the portal, and the brakes on guessing.

A customer is a contact with ``portal_access`` and an e-mail address; their password is set
only through an e-mailed link (:mod:`.links`). One address may be a contact on several
accounts (a landlord, a family): each contact has its own password, and signing in tries
those (at most :data:`MAX_CANDIDATES`) — the first that matches wins.

Throttling counts recorded :class:`Attempt` rows for whatever address was typed, known or
not, so its behaviour reveals nothing about which addresses exist:

* more than ``attempts`` failures for one address from one IP within ``window`` (since that
  address last signed in) pause that pair;
* ``lockout_threshold`` failures for one address from any IP within ``lockout`` lock the
  address for the rest of ``lockout``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.accounts import Contact
from backhaul.sdk.passwords import (
    MAX_LENGTH,
    dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)

from .models import Attempt, Login

log = logging.getLogger("backhaul.portal")

MAX_CANDIDATES = 5
#: refused-before-checking attempts are recorded but do not count as failures
REFUSED = ("throttled", "locked")


@dataclass(frozen=True)
class Limits:
    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout_threshold: int = 10
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: dict) -> Limits:
        return cls(settings["throttle_attempts"],
                   timedelta(minutes=settings["throttle_window_minutes"]),
                   settings["lockout_threshold"],
                   timedelta(minutes=settings["lockout_minutes"]))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    contact: Contact | None = None
    #: ``ok``, ``bad``, ``throttled`` or ``locked``
    status: str = "bad"
    message: str = ""


def normalise(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def portal_contacts(email: str, limit: int = MAX_CANDIDATES) -> list[Contact]:
    """Contacts with portal access and this address (case-insensitive), oldest first."""
    if not email:
        return []
    return list(db.session.scalars(sa.select(Contact).where(
        sa.func.lower(Contact.email) == email, Contact.portal_access.is_(True))
        .order_by(Contact.id).limit(limit)))


def _failures(kind: str, email: str, since: datetime, ip: str | None = None) -> list[datetime]:
    stmt = (sa.select(Attempt.at).where(Attempt.kind == kind, Attempt.email == email,
                                        Attempt.success.is_(False),
                                        Attempt.reason.not_in(REFUSED), Attempt.at > since)
            .order_by(Attempt.at))
    if ip is not None:
        stmt = stmt.where(Attempt.ip == ip)
    return list(db.session.scalars(stmt))


def refusal(email: str, ip: str, limits: Limits, now: datetime | None = None) -> Outcome | None:
    now = now or utcnow()
    last_ok = db.session.scalar(sa.select(sa.func.max(Attempt.at)).where(
        Attempt.kind == "login", Attempt.email == email, Attempt.success.is_(True)))
    since = max(now - limits.lockout, last_ok) if last_ok else now - limits.lockout
    recent = _failures("login", email, since)
    if len(recent) >= limits.lockout_threshold:
        until = recent[-limits.lockout_threshold] + limits.lockout
        return Outcome(False, status="locked", message=_wait("Too many failed sign-ins for "
                                                             "this address.", until, now))
    since = max(now - limits.window, last_ok) if last_ok else now - limits.window
    recent = _failures("login", email, since, ip)
    if len(recent) >= limits.attempts:
        until = recent[-limits.attempts] + limits.window
        return Outcome(False, status="throttled", message=_wait("Too many attempts.", until,
                                                                now))
    return None


def _wait(prefix: str, until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (f"{prefix} Try again in {minutes} minute{'s' if minutes != 1 else ''}, or use "
            "\"Forgot your password?\" to set a new one.")


def record(kind: str, email: str, ip: str, success: bool, reason: str) -> None:
    db.session.add(Attempt(kind=kind, email=email, ip=(ip or "")[:45], success=success,
                           reason=reason[:32], at=utcnow()))


def sign_in(email: str, password: str, ip: str, limits: Limits) -> Outcome:
    """Check an address and password; records the attempt (the caller commits)."""
    email = normalise(email)
    refused = refusal(email, ip, limits)
    if refused is not None:
        record("login", email, ip, False, refused.status)
        log.warning("portal sign-in refused for %r from %s: %s", email, ip, refused.status)
        return refused
    matched = None
    logins = {row.contact_id: row for row in db.session.scalars(sa.select(Login).where(
        Login.contact_id.in_([c.id for c in portal_contacts(email)]),
        Login.password_hash.is_not(None)))}
    if not logins or len(password) > MAX_LENGTH:
        dummy_verify(password[:MAX_LENGTH])
    for _contact_id, login in sorted(logins.items()):
        if verify_password(login.password_hash, password):
            matched = login
            break
    if matched is None:
        record("login", email, ip, False, "bad")
        log.warning("portal sign-in failed for %r from %s", email, ip)
        return Outcome(False, status="bad", message="That e-mail address and password do not "
                                                    "match. Check both, or use \"Forgot your "
                                                    "password?\".")
    if needs_rehash(matched.password_hash):
        matched.password_hash = hash_password(password)
    matched.last_login_at = utcnow()
    record("login", email, ip, True, "ok")
    return Outcome(True, db.session.get(Contact, matched.contact_id), "ok")


def purge(older_than: timedelta = timedelta(days=30)) -> int:
    cutoff = utcnow() - older_than
    return db.session.execute(sa.delete(Attempt).where(Attempt.at < cutoff)).rowcount or 0


__all__ = ["Limits", "Outcome", "normalise", "portal_contacts", "purge", "record", "refusal",
           "sign_in"]
