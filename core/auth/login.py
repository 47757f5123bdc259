"""The sign-in flow as plain functions: password step, second-factor step, outcomes.

Failures say one generic thing whether the address exists, the password is wrong or the
account is deactivated, and take about the same time (an unknown address still pays for one
argon2 verification). The caller (a view) turns an outcome into a session and a response and
commits: attempts are recorded in the same transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa

from ..actor import Actor, acting_as
from ..db import db
from . import passwords, throttle, totp
from .models import User
from .security import audit

log = logging.getLogger("backhaul.security")

GENERIC_FAILURE = "Sign-in failed: the e-mail address or password is incorrect."
BAD_CODE = "The code is not correct. Enter the 6-digit code your authenticator app shows now."


@dataclass(frozen=True)
class Outcome:
    """``status``: ``ok`` (signed in), ``mfa`` (password right, code needed), ``failed`` or
    ``refused`` (throttled or locked: nothing was checked)."""

    status: str
    user: User | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def refused_message(refusal: throttle.Refusal) -> str:
    minutes = refusal.minutes_left()
    return (f"Too many failed sign-in attempts. Wait {minutes} minute"
            f"{'s' if minutes != 1 else ''}, then try again.")


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == throttle.normalise_email(email)))


def _refusal(email: str, ip: str | None, user: User | None,
             limits: throttle.Limits) -> Outcome | None:
    refusal = throttle.check(email, ip, user, limits)
    if refusal is None:
        return None
    throttle.record(email, ip, False, refusal.reason)
    log.warning("sign-in refused for %r from %s: %s", email, ip or "?", refusal.reason)
    return Outcome("refused", None, refused_message(refusal))


def _failed(user: User, ip: str | None, reason: str, limits: throttle.Limits) -> None:
    locked = throttle.register_failure(user, user.email, ip, reason, limits)
    audit("auth.login_failed", user.id, reason=reason, ip=ip)
    if locked:
        audit("auth.account_locked", user.id, until=user.locked_until, ip=ip)


def _succeeded(user: User, ip: str | None, second_factor: bool) -> None:
    throttle.register_success(user, user.email, ip)
    with acting_as(Actor("user", str(user.id), user.email)):  # the request was anonymous
        audit("auth.login", user.id, ip=ip, second_factor=second_factor)
    log.info("user %s signed in%s from %s", user.id,
             " with a second factor" if second_factor else "", ip or "?")


def password_step(email: str, password: str, ip: str | None,
                  limits: throttle.Limits) -> Outcome:
    """Check e-mail and password (after throttling); rehash the password when due."""
    email = throttle.normalise_email(email)
    user = find_user(email)
    refused = _refusal(email, ip, user, limits)
    if refused:
        return refused
    if user is None:
        passwords.dummy_verify(password)
        throttle.register_failure(None, email, ip, "unknown address", limits)
        return Outcome("failed", None, GENERIC_FAILURE)
    if not passwords.verify_password(user.password_hash, password):
        _failed(user, ip, "wrong password", limits)
        return Outcome("failed", None, GENERIC_FAILURE)
    if not user.is_active:
        _failed(user, ip, "deactivated", limits)
        return Outcome("failed", None, GENERIC_FAILURE)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        log.info("password hash of user %s upgraded to current parameters", user.id)
    if user.totp_enabled:
        return Outcome("mfa", user)
    _succeeded(user, ip, second_factor=False)
    return Outcome("ok", user)


def code_step(user: User, code: str, ip: str | None, limits: throttle.Limits,
              secret_key: str) -> Outcome:
    """Check the second factor of a user whose password was right a moment ago."""
    refused = _refusal(user.email, ip, user, limits)
    if refused:
        return refused
    if not user.is_active or not totp.verify_code(user, code, secret_key):
        _failed(user, ip, "wrong TOTP code", limits)
        return Outcome("failed", None, BAD_CODE)
    _succeeded(user, ip, second_factor=True)
    return Outcome("ok", user)
