"""The call log: who called whom, when, for how long, and what was said."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.actor import current_actor
from backhaul.core.db import db, utcnow

from .contacts import contact_of
from .models import Account, Call
from .schemas import CallSchema


def log_call(account: Account, data: dict) -> Call:
    """Record a call. ``at`` defaults to now and may not lie in the future."""
    loaded = CallSchema().load(data)
    at = loaded["at"] or utcnow()
    if at > utcnow() + timedelta(minutes=5):
        raise ValidationError({"at": ["A call cannot be logged in the future."]})
    contact = contact_of(account, loaded["contact_id"]) if loaded["contact_id"] else None
    call = Call(account_id=account.id, contact=contact, direction=loaded["direction"], at=at,
                duration_seconds=loaded["duration_seconds"], summary=loaded["summary"],
                staff=str(current_actor()))
    db.session.add(call)
    db.session.flush()
    return call


def calls_for(account: Account, limit: int | None = None) -> list[Call]:
    stmt = (sa.select(Call).where(Call.account_id == account.id)
            .order_by(Call.at.desc(), Call.id.desc()))
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))
