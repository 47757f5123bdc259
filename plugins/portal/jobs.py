"""Periodic housekeeping: forget old sign-in attempts and ended sessions (idempotent)."""
from __future__ import annotations

from backhaul.sdk import db

from . import sessions, signin


def housekeeping() -> None:
    signin.purge()
    sessions.purge()
    db.session.commit()
