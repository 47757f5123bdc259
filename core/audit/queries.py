"""Filtering the audit trail: one definition shared by the UI view and GraphQL."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backhaul.core.graphql.pagination import apply_filters

from .models import AuditEntry


def _actor(stmt, value: str):
    """Match the actor's label (contains) or id, or ``kind:id`` exactly."""
    kind, sep, ident = value.partition(":")
    if sep and kind in ("user", "token", "job", "plugin", "system", "anonymous") and ident:
        return stmt.where(AuditEntry.actor_kind == kind, AuditEntry.actor_id == ident)
    return stmt.where(sa.or_(AuditEntry.actor_label.icontains(value, autoescape=True),
                             AuditEntry.actor_id == value))


def _action(stmt, value: str):
    """``auth.login_failed`` exactly, or ``auth.*`` for every action under ``auth.``."""
    if value.endswith("*"):
        return stmt.where(AuditEntry.action.startswith(value[:-1], autoescape=True))
    return stmt.where(AuditEntry.action == value)


FILTERS = {
    "actor": _actor,
    "actorKind": AuditEntry.actor_kind,
    "objectType": AuditEntry.object_type,
    "objectId": AuditEntry.object_id,
    "action": _action,
    "from": (AuditEntry.at, "gte"),
    "to": (AuditEntry.at, "lt"),
}


def entries(filters: Mapping[str, Any] | None = None) -> sa.Select:
    """``select(AuditEntry)`` narrowed by ``filters`` (names of :data:`FILTERS`; ``from`` is
    inclusive, ``to`` exclusive, both aware datetimes). Blank strings are ignored."""
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in (filters or {}).items()}
    values = {k: v for k, v in values.items() if v not in ("", None)}
    for key in ("from", "to"):
        if key in values and not isinstance(values[key], datetime):
            raise TypeError(f"audit filter '{key}' must be a datetime")
    return apply_filters(sa.select(AuditEntry), values, FILTERS)


ORDER = AuditEntry.seq.desc()
