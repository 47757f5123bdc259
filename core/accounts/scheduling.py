"""Scheduled events: future-dated actions whose types plugins contribute, run exactly once.

Scheduling validates the parameters with the type's schema (inside a marshmallow
``Context`` holding ``{"account": ..., "address": ...}`` so a schema can check that a contact
belongs to the account) and refuses a time in the past.

Running (:func:`run_due_events`, a periodic job) is exactly-once although schedulers and
workers may race or die:

1. *claim*: a conditional UPDATE moves a due row ``pending -> running`` (or takes over a
   ``running`` row whose lease expired) and stamps it with this runner's token; it commits.
   Only one runner's UPDATE can match.
2. *execute*: a new transaction first re-checks the claim with an UPDATE on the row (which
   also locks it on PostgreSQL until commit, so nobody can take it over meanwhile), runs the
   action, and marks it ``done`` in the same transaction. A crash before that commit leaves no
   effect; the lease expires and another runner takes the event over.
3. *failure*: the effect is rolled back; the attempt, the error and the next retry time are
   recorded (``failed`` after ``max_attempts``, at once for invalid parameters).
"""
from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError
from marshmallow.experimental.context import Context

from backhaul.core.actor import Actor, acting_as, current_actor
from backhaul.core.db import db, utcnow
from backhaul.sdk.contributions import ScheduledActionType

from .fields import accounts_setting
from .models import Account, Address, ScheduledEvent
from .schemas import RescheduleSchema, ScheduleEventSchema

log = logging.getLogger("backhaul.accounts.events")

BACKOFF_CAP_SECONDS = 3600


def action_types() -> dict[str, ScheduledActionType]:
    return current_app.extensions["backhaul.contributions"].scheduled_action_types


def action_type(key: str, field: str = "action") -> ScheduledActionType:
    types = action_types()
    if key not in types:
        known = ", ".join(sorted(types)) or "none"
        raise ValidationError({field: [f"Unknown action '{key}'. Known actions: {known}."]})
    return types[key]


def validate_params(kind: ScheduledActionType, params: dict, account: Account | None,
                    address: Address | None = None) -> dict:
    """Load ``params`` with the type's schema; errors come back under ``params``."""
    try:
        with Context({"account": account, "address": address}):
            return kind.schema().load(params or {})
    except ValidationError as exc:
        raise ValidationError({"params": exc.normalized_messages()}) from None


def _dump(kind: ScheduledActionType, loaded: dict) -> dict:
    with Context({}):
        return kind.schema().dump(loaded)


def schedule_event(account: Account | None, action: str, due_at, params: dict | None = None,
                   *, address: Address | None = None, target_type: str = "account",
                   target_id: int | None = None) -> ScheduledEvent:
    """Validate and record a future action. ``due_at``: aware datetime, ISO text or a date."""
    data = ScheduleEventSchema().load({"action": action, "due_at": due_at,
                                       "params": params or {}})
    kind = action_type(data["action"])
    if target_type not in kind.targets:
        raise ValidationError({"action": [f"'{kind.label}' applies to "
                                          f"{', '.join(kind.targets)}, not {target_type}."]})
    if target_type == "account" and account is None:
        raise ValidationError({"account_id": ["Choose the account this event applies to."]})
    loaded = validate_params(kind, data["params"], account, address)
    event = ScheduledEvent(
        account=account, address=address, target_type=target_type, target_id=target_id,
        action=kind.key, params=_dump(kind, loaded), due_at=data["due_at"],
        next_attempt_at=data["due_at"], status="pending", attempts=0,
        max_attempts=int(accounts_setting("event_max_attempts", 5)),
        created_by=str(current_actor()))
    db.session.add(event)
    db.session.flush()
    return event


def _editable(event: ScheduledEvent, verb: str) -> None:
    if event.status not in ("pending", "failed"):
        raise ValidationError({"event": [f"Event {event.id} is {event.status}: only a pending "
                                         f"or failed event can be {verb}."]})


def cancel_event(event: ScheduledEvent) -> ScheduledEvent:
    """Cancel a pending (or failed) event; refuses one that is running or done."""
    _editable(event, "cancelled")
    changed = db.session.execute(
        sa.update(ScheduledEvent)
        .where(ScheduledEvent.id == event.id, ScheduledEvent.status.in_(("pending", "failed")))
        .values(status="cancelled", cancelled_by=str(current_actor()), finished_at=utcnow(),
                updated_at=utcnow()))
    if changed.rowcount != 1:
        raise ValidationError({"event": [f"Event {event.id} started meanwhile and can no "
                                         "longer be cancelled."]})
    db.session.refresh(event)
    return event


def reschedule_event(event: ScheduledEvent, due_at) -> ScheduledEvent:
    """Move a pending (or failed) event to another future time; a failed one is re-armed."""
    _editable(event, "rescheduled")
    when = RescheduleSchema().load({"due_at": due_at})["due_at"]
    changed = db.session.execute(
        sa.update(ScheduledEvent)
        .where(ScheduledEvent.id == event.id, ScheduledEvent.status.in_(("pending", "failed")))
        .values(status="pending", due_at=when, next_attempt_at=when, attempts=0,
                last_error=None, finished_at=None, updated_at=utcnow()))
    if changed.rowcount != 1:
        raise ValidationError({"event": [f"Event {event.id} started meanwhile and can no "
                                         "longer be rescheduled."]})
    db.session.refresh(event)
    return event


def retry_event(event: ScheduledEvent) -> ScheduledEvent:
    """Run a failed event again as soon as the scheduler next looks."""
    if event.status != "failed":
        raise ValidationError({"event": [f"Event {event.id} is {event.status}, not failed."]})
    event.status, event.attempts, event.next_attempt_at = "pending", 0, utcnow()
    db.session.flush()
    return event


# ------------------------------------------------------------------------------ running
def runner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease() -> timedelta:
    return timedelta(seconds=int(accounts_setting("event_lease_seconds", 300)))


def _due(now: datetime):
    return sa.or_(
        sa.and_(ScheduledEvent.status == "pending", ScheduledEvent.next_attempt_at <= now),
        sa.and_(ScheduledEvent.status == "running", ScheduledEvent.lease_until < now))


def due_event_ids(limit: int = 100, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(db.session.scalars(sa.select(ScheduledEvent.id).where(_due(now))
                                   .order_by(ScheduledEvent.next_attempt_at, ScheduledEvent.id)
                                   .limit(limit)))


def claim(event_id: int, runner: str) -> bool:
    """Take ``event_id`` for ``runner`` if it is due and nobody holds it. Commits."""
    now = utcnow()
    result = db.session.execute(
        sa.update(ScheduledEvent).where(ScheduledEvent.id == event_id, _due(now))
        .values(status="running", claimed_by=runner, lease_until=now + _lease(),
                attempts=ScheduledEvent.attempts + 1, started_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _holds(event_id: int, runner: str):
    return sa.and_(ScheduledEvent.id == event_id, ScheduledEvent.claimed_by == runner,
                   ScheduledEvent.status == "running")


def run_event(event_id: int, runner: str | None = None) -> str:
    """Claim and execute one event. Returns done, retry, failed, skipped or lost."""
    runner = runner or runner_token()
    if not claim(event_id, runner):
        return "skipped"
    try:
        # re-check the claim; on PostgreSQL this row lock is held until the commit below
        held = db.session.execute(sa.update(ScheduledEvent).where(_holds(event_id, runner))
                                  .values(lease_until=utcnow() + _lease())
                                  .execution_options(synchronize_session=False))
        if held.rowcount != 1:
            db.session.rollback()
            return "lost"
        db.session.expire_all()
        event = db.session.get(ScheduledEvent, event_id)
        kind = action_type(event.action)
        params = validate_params(kind, event.params, event.account, event.address)
        with acting_as(Actor("job", str(event.id), f"scheduled event {event.id}")):
            result = kind.execute(event, params)
        db.session.execute(
            sa.update(ScheduledEvent).where(_holds(event_id, runner))
            .values(status="done", finished_at=utcnow(), lease_until=None, last_error=None,
                    result=_json_result(result), updated_at=utcnow())
            .execution_options(synchronize_session=False))
        db.session.commit()
        return "done"
    except Exception as exc:
        db.session.rollback()
        return _record_failure(event_id, runner, exc)


def _json_result(result) -> dict | None:
    if result is None or isinstance(result, dict):
        return result
    return {"value": str(result)}


def _record_failure(event_id: int, runner: str, exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        error = f"invalid parameters: {exc.normalized_messages()}"
        permanent = True
    else:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        permanent = False
    # write first (SQLite: a transaction that has read cannot start writing under contention)
    base = current_app.config.get("JOB_BACKOFF_SECONDS", 30)
    final_when = sa.or_(sa.literal(permanent),
                        ScheduledEvent.attempts >= ScheduledEvent.max_attempts)
    db.session.execute(
        sa.update(ScheduledEvent).where(_holds(event_id, runner))
        .values(status=sa.case((final_when, "failed"), else_="pending"),
                last_error=error[:4000], lease_until=None,
                finished_at=sa.case((final_when, utcnow()), else_=None), updated_at=utcnow())
        .execution_options(synchronize_session=False))
    event = db.session.get(ScheduledEvent, event_id, populate_existing=True)
    delay = timedelta(seconds=min(base * 2 ** max(event.attempts - 1, 0), BACKOFF_CAP_SECONDS))
    event.next_attempt_at = utcnow() + delay
    outcome = "failed" if event.status == "failed" else "retry"
    log.error("scheduled event %s (%s) attempt %s failed (%s): %s", event_id, event.action,
              event.attempts, outcome, error)
    db.session.commit()
    return outcome


def run_due_events(limit: int = 100) -> dict[str, int]:
    """The periodic job: run every due event once. Returns counts by outcome."""
    runner = runner_token()
    counts: dict[str, int] = {}
    due = due_event_ids(limit)
    db.session.commit()  # end the read: on SQLite a read cannot later turn into a write
    for event_id in due:
        outcome = run_event(event_id, runner)
        counts[outcome] = counts.get(outcome, 0) + 1
    db.session.commit()
    return counts


def events_for(account: Account, statuses: tuple[str, ...] | None = None):
    stmt = sa.select(ScheduledEvent).where(ScheduledEvent.account_id == account.id)
    if statuses:
        stmt = stmt.where(ScheduledEvent.status.in_(statuses))
    return list(db.session.scalars(stmt.order_by(ScheduledEvent.due_at.desc(),
                                                 ScheduledEvent.id.desc())))
