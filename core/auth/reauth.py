"""Step-up: the acting user's current password before a credential changes (issue 11 #5, #8).

Changing a password (one's own or, as an administrator, someone else's) and switching
two-factor sign-in off need the *acting* user's current password, not just a session: a
borrowed session or a stolen cookie must not reach an account takeover. Wrong answers count
like failed sign-ins: they are recorded, and after the lock-out threshold the account is
locked and every session of it ends, so guessing through this form is no easier than
through the sign-in page.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request

from backhaul.core.db import db

from . import sessions
from .models import User
from .passwords import verify_password
from .throttle import Limits, register_failure

WRONG = "The current password is not correct."
ENDED = ("Too many wrong current passwords: this account is locked for a while and signed "
         "out everywhere. Sign in again later.")


class ReauthFailed(Exception):
    """The current password was wrong. The caller rolls its own work back, then calls
    :meth:`record` (which writes the failure, and may lock the account and end its sessions)
    in the transaction it commits: a rollback must never erase a failed attempt."""

    def __init__(self, user: User, field: str):
        super().__init__(WRONG)
        self.user, self.field, self.ended = user, field, False

    def record(self) -> None:
        limits = Limits.from_config(current_app.config)
        ip = request.remote_addr if has_request_context() else None
        self.ended = register_failure(self.user, self.user.email, ip,
                                      "wrong current password", limits)
        if self.ended:
            sessions.revoke_all(self.user, "too many wrong current passwords")
            self.args = (ENDED,)
        current_app.logger.warning("wrong current password from user %s%s", self.user.id,
                                   " (locked, signed out)" if self.ended else "")

    def record_and_commit(self) -> None:
        """For a request whose own work was rolled back already (the web forms)."""
        db.session.rollback()
        self.record()
        db.session.commit()


def confirm_current_password(user: User, password: str | None,
                             field: str = "current_password") -> None:
    """Pass, or raise :class:`ReauthFailed` (nothing written yet: see its ``record``)."""
    if password and verify_password(user.password_hash, password):
        return
    raise ReauthFailed(user, field)
