"""Security events recorded in the audit trail (besides the row changes it records itself).

Sign-ins, failures on real accounts, lock-outs and mass sign-outs are written with the
current transaction, so they exist exactly when the change (or the recorded attempt) commits.
Details never include secrets: no passwords, codes, tokens or session ids.
"""
from __future__ import annotations

import logging

log = logging.getLogger("backhaul.security")


def audit(action: str, user_id: int | None, **details) -> None:
    """Record ``action`` (``auth.<what>``) about staff user ``user_id`` in the audit trail."""
    try:
        from ..audit.recorder import record
    except ImportError:  # the trail is not installed: the security log still has it
        return
    record(action, "auth_user", user_id, details or None)
