"""Sign-in throttling and temporary lock-out, counted from recorded attempts.

Two brakes, both applied to whatever e-mail address was typed, known or not, so that their
behaviour reveals nothing about which accounts exist:

* **throttle** — more than ``attempts`` failures for one address from one IP within
  ``window`` (since that address last signed in successfully) pause that pair;
* **lock-out** — ``lockout_threshold`` consecutive failures for one address, from any IP,
  lock it for ``lockout`` (an account's counter lives on the user row and an administrator
  can clear it; for unknown addresses the same rule is counted from the attempts table).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..db import db, utcnow
from .models import LoginAttempt, User

log = logging.getLogger("backhaul.security")


@dataclass(frozen=True)
class Limits:
    attempts: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout_threshold: int = 10
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(attempts=int(config.get("AUTH_THROTTLE_ATTEMPTS", 5)),
                   window=timedelta(minutes=int(config.get("AUTH_THROTTLE_WINDOW_MINUTES", 15))),
                   lockout_threshold=int(config.get("AUTH_LOCKOUT_THRESHOLD", 10)),
                   lockout=timedelta(minutes=int(config.get("AUTH_LOCKOUT_MINUTES", 15))))


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before the password is even checked, and until when."""

    reason: str  # "throttled" | "locked"
    until: datetime

    def minutes_left(self, now: datetime | None = None) -> int:
        seconds = (self.until - (now or utcnow())).total_seconds()
        return max(1, int(seconds // 60) + (1 if seconds % 60 else 0))


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def _last_success(email: str) -> datetime | None:
    return db.session.scalar(sa.select(sa.func.max(LoginAttempt.at))
                             .where(LoginAttempt.email == email, LoginAttempt.success.is_(True)))


#: Attempts refused before any check are recorded but do not count as failures (otherwise
#: a pause would extend itself while someone keeps trying, unlike an account's lock).
REFUSED = ("throttled", "locked")


def _failures(email: str, since: datetime, ip: str | None = None) -> list[datetime]:
    query = (sa.select(LoginAttempt.at)
             .where(LoginAttempt.email == email, LoginAttempt.success.is_(False),
                    LoginAttempt.reason.not_in(REFUSED), LoginAttempt.at > since)
             .order_by(LoginAttempt.at))
    if ip is not None:
        query = query.where(LoginAttempt.ip == ip)
    return list(db.session.scalars(query))


def check(email: str, ip: str | None, user: User | None, limits: Limits,
          now: datetime | None = None) -> Refusal | None:
    """A :class:`Refusal` if this attempt must not even be checked, else ``None``."""
    now = now or utcnow()
    if user is not None:
        if user.locked_until is not None and user.locked_until > now:
            return Refusal("locked", user.locked_until)
    else:
        recent = _failures(email, now - limits.lockout)
        if len(recent) >= limits.lockout_threshold:
            return Refusal("locked", recent[-limits.lockout_threshold] + limits.lockout)
    since = now - limits.window
    success = _last_success(email)
    if success is not None and success > since:
        since = success
    recent = _failures(email, since, ip=ip or "")
    if len(recent) >= limits.attempts:
        return Refusal("throttled", recent[-limits.attempts] + limits.window)
    return None


def record(email: str, ip: str | None, success: bool, reason: str = "",
           now: datetime | None = None) -> None:
    db.session.add(LoginAttempt(email=email, ip=(ip or "")[:45], success=success,
                                reason=reason[:32], at=now or utcnow()))


def register_failure(user: User | None, email: str, ip: str | None, reason: str,
                     limits: Limits, now: datetime | None = None) -> bool:
    """Record a failed attempt; lock the account when it reaches the threshold (-> True)."""
    now = now or utcnow()
    record(email, ip, False, reason, now)
    log.warning("sign-in failed for %r from %s: %s", email, ip or "?", reason)
    if user is None:
        return False
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until = None
    user.failed_login_count = (user.failed_login_count or 0) + 1
    if user.failed_login_count >= limits.lockout_threshold:
        user.locked_until = now + limits.lockout
        user.failed_login_count = 0
        log.warning("account of user %s locked until %s after %s failed sign-ins", user.id,
                    user.locked_until.isoformat(timespec="seconds"), limits.lockout_threshold)
        return True
    return False


def register_success(user: User, email: str, ip: str | None, now: datetime | None = None) -> None:
    now = now or utcnow()
    record(email, ip, True, "ok", now)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now


def unlock(user: User) -> None:
    """Clear an account's lock-out (administrator action)."""
    user.failed_login_count = 0
    user.locked_until = None


def purge(older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - older_than
    return db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < cutoff)).rowcount or 0
