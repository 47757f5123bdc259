"""Account statuses: configurable names and colours, a fixed set of meanings, and the one
function that changes an account's status (:func:`set_status`).

The default statuses are seeded by the migration and, for an empty table (a fresh test
database, a wiped install), on first use. Seeding only ever happens when *no* status exists, so
a status an operator deleted or renamed is never brought back.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.actor import current_actor
from backhaul.core.db import db, utcnow
from backhaul.core.events import emit

from .models import STATUS_MEANINGS, Account, AccountStatus, StatusChange

#: key, name, colour, meaning, is_default, position (also frozen in migration core_0004)
DEFAULT_STATUSES = (
    ("prospect", "Prospect", "#6366f1", "prospect", False, 10),
    ("active", "Active", "#16a34a", "active", True, 20),
    ("delinquent", "Delinquent", "#dc2626", "delinquent", False, 30),
    ("suspended", "Suspended", "#ea580c", "inactive", False, 40),
    ("inactive", "Inactive", "#6b7280", "inactive", False, 50),
    ("moved_out", "Moved out", "#78716c", "inactive", False, 60),
)
MOVE_OUT_STATUS = "moved_out"


def ensure_default_statuses() -> None:
    """Create the default statuses if there are none at all (idempotent, race-tolerant)."""
    if db.session.scalar(sa.select(sa.func.count(AccountStatus.id))):
        return
    try:
        with db.session.begin_nested():
            for key, name, colour, meaning, default, position in DEFAULT_STATUSES:
                db.session.add(AccountStatus(key=key, name=name, colour=colour, meaning=meaning,
                                             is_default=default, position=position))
    except sa.exc.IntegrityError:
        pass  # another transaction seeded them first


def all_statuses() -> list[AccountStatus]:
    ensure_default_statuses()
    return list(db.session.scalars(sa.select(AccountStatus)
                                   .order_by(AccountStatus.position, AccountStatus.key)))


def get_status(key: str, field: str = "status") -> AccountStatus:
    """The status with ``key``; a field-level ``ValidationError`` when there is none."""
    ensure_default_statuses()
    status = db.session.scalar(sa.select(AccountStatus).where(AccountStatus.key == key))
    if status is None:
        known = ", ".join(s.key for s in all_statuses())
        raise ValidationError({field: [f"Unknown status '{key}'. Known statuses: {known}."]})
    return status


def default_status() -> AccountStatus:
    """The status of a new account: the one marked default, else the first 'active' one."""
    statuses = all_statuses()
    for status in statuses:
        if status.is_default:
            return status
    for status in statuses:
        if status.meaning == "active":
            return status
    raise ValidationError({"status": ["No active status is configured: create one first."]})


def first_with_meaning(meaning: str) -> AccountStatus | None:
    return next((s for s in all_statuses() if s.meaning == meaning), None)


def move_out_status() -> AccountStatus:
    """The status a moved-out account gets unless another inactive status is chosen."""
    ensure_default_statuses()
    status = db.session.scalar(sa.select(AccountStatus)
                               .where(AccountStatus.key == MOVE_OUT_STATUS))
    status = status if status is not None and status.meaning == "inactive" else (
        first_with_meaning("inactive"))
    if status is None:
        raise ValidationError({"status": ["No inactive status is configured: create one "
                                          "(meaning 'inactive') to record move-outs."]})
    return status


def record_status(account: Account, old: str | None, new: str, reason: str) -> None:
    """History row + ``account_status_changed`` after commit."""
    db.session.add(StatusChange(account_id=account.id, old_status=old, new_status=new,
                                reason=reason, actor=str(current_actor()), at=utcnow()))
    emit("account_status_changed", account_id=account.id, old_status=old, new_status=new,
         reason=reason)


def set_status(account: Account, status_key: str, reason: str = "manual") -> bool:
    """Change ``account``'s status; returns ``False`` when it already had that status.

    Emits ``account_status_changed`` (after commit) with ``reason`` ("manual", "scheduled",
    "move_out", "delinquency"...). Does not commit: the caller owns the transaction.
    """
    status = get_status(status_key)
    if account.status_id == status.id:
        return False
    old = account.status.key if account.status is not None else None
    account.status = status
    db.session.flush()
    record_status(account, old, status.key, reason)
    return True


def save_status(key: str, name: str, colour: str, meaning: str, *, is_default: bool = False,
                position: int = 100) -> AccountStatus:
    """Create or update a status definition (the admin's configuration)."""
    errors: dict[str, list[str]] = {}
    if meaning not in STATUS_MEANINGS:
        errors["meaning"] = [f"Must be one of: {', '.join(STATUS_MEANINGS)}."]
    if not _is_colour(colour):
        errors["colour"] = ["Must be a hex colour such as #16a34a."]
    if not key or not key.replace("_", "").isalnum() or key != key.lower():
        errors["key"] = ["Use lower-case letters, digits and underscores."]
    if errors:
        raise ValidationError(errors)
    ensure_default_statuses()
    status = db.session.scalar(sa.select(AccountStatus).where(AccountStatus.key == key))
    if status is None:
        status = AccountStatus(key=key)
        db.session.add(status)
    status.name, status.colour, status.meaning = name, colour, meaning
    status.position = position
    if is_default:
        db.session.execute(sa.update(AccountStatus).values(is_default=False))
    status.is_default = is_default
    db.session.flush()
    return status


def _is_colour(value: str) -> bool:
    return (isinstance(value, str) and len(value) == 7 and value.startswith("#")
            and all(c in "0123456789abcdefABCDEF" for c in value[1:]))
