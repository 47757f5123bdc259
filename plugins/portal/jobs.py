"""Periodic jobs (idempotent): forget old sign-in attempts and ended sessions; settle
portal payments still without a final answer."""
from __future__ import annotations

from backhaul.sdk import db

from . import sessions, signin


def housekeeping() -> None:
    signin.purge()
    sessions.purge()
    db.session.commit()


def reconcile_payments() -> None:
    from .payments import reconcile

    reconcile()
