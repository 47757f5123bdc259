"""Which notification an account status change is: suspended, restored or just changed.

Statuses are configurable, so the decision uses their *meaning*: moving into a
``delinquent`` status (or the status keyed ``suspended``) is a suspension (essential: the
customer cannot opt out of hearing that their service stopped); leaving one for an ``active``
status is a restoration; anything else is a plain change. A new account (no old status) is
announced by ``accounts.created`` instead.
"""
from __future__ import annotations

from marshmallow import ValidationError

from backhaul.sdk.accounts import get_status

SUSPENDED_KEYS = frozenset({"suspended"})


def _status(key: str | None):
    if key is None:
        return None
    try:
        return get_status(key)
    except ValidationError:
        return None  # deleted since: fall back to the key


def _suspended(status) -> bool:
    return status is not None and (status.key in SUSPENDED_KEYS or status.meaning == "delinquent")


def status_event(old_key: str | None, new_key: str, reason: str) -> tuple[str, dict] | None:
    """``(event_key, context)`` for a status change, or ``None`` when there is none to send."""
    if old_key is None or old_key == new_key:
        return None
    old, new = _status(old_key), _status(new_key)
    context = {"status": {"old": old.name if old else old_key,
                          "new": new.name if new else new_key, "reason": reason or ""}}
    if _suspended(new) and not _suspended(old):
        return "accounts.suspended", context
    if _suspended(old) and new is not None and new.meaning == "active":
        return "accounts.restored", context
    return "accounts.status_changed", context
