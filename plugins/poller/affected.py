"""Accounts affected by a down device: marked when the poller sees a network device go
down (its services, through the network plugin's ``accounts_on_device``), cleared when it
comes back; an outage notice can go to their contacts through the notifications plugin
(once per outage and account)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from backhaul.sdk import db, plugin_enabled, utcnow
from backhaul.sdk.graphql import FieldErrors

from .models import Affected, TargetState

EVENT = "poller.outage"


def event_types():
    from backhaul.plugins.notifications.api import EventType, Variable

    return [EventType(
        EVENT, "Outage notice", category="service",
        description="Sent by staff from a down device's monitoring page to the accounts "
                    "whose service runs through it.",
        variables=(Variable("device", "The device's name", "sector-north-2"),
                   Variable("since", "When it went down (UTC)", "2026-12-04 08:15 UTC")),
        defaults={"email": ("Service interruption in your area",
                            "We know of an interruption affecting your service since "
                            "{{ since }} and are working on it.", None)})]


def _device_id(target: str) -> int | None:
    kind, _, ident = target.partition(":")
    return int(ident) if kind == "device" and ident.isdigit() else None


def mark(target: str, at: datetime) -> int:
    """Record the accounts behind ``target`` (a network device) as affected from ``at``."""
    device_id = _device_id(target)
    if device_id is None:
        return 0
    from backhaul.plugins.network.api import accounts_on_device

    by_account: dict[int, list[int]] = {}
    for account_id, subscription_id in accounts_on_device(device_id):
        by_account.setdefault(account_id, []).append(subscription_id)
    existing = {row.account_id: row for row in db.session.scalars(
        sa.select(Affected).where(Affected.target == target))}
    for account_id, subscriptions in by_account.items():
        row = existing.get(account_id)
        if row is None:
            db.session.add(Affected(target=target, account_id=account_id,
                                    subscriptions=subscriptions, since=at))
        else:
            row.subscriptions = subscriptions
    return len(by_account)


def clear(target: str) -> int:
    return db.session.execute(sa.delete(Affected).where(Affected.target == target)).rowcount


def listing(target: str | None = None, account_id: int | None = None,
            limit: int = 200) -> list[Affected]:
    query = sa.select(Affected).order_by(Affected.since.desc(), Affected.id).limit(
        max(1, min(int(limit), 1000)))
    if target:
        query = query.where(Affected.target == target[:40])
    if account_id is not None:
        query = query.where(Affected.account_id == account_id)
    return list(db.session.scalars(query))


def send_notice(target: str) -> int:
    """Queue the outage notice to every affected account of ``target`` not yet told of
    this outage; returns how many accounts were notified now."""
    state = db.session.get(TargetState, target[:40]) if "\x00" not in target else None
    if state is None:
        raise FieldErrors({"target": [f"There is no polled target {target[:40]}."]})
    if state.state != "down":
        raise FieldErrors({"target": [f"{state.name} is {state.state}, not down."]})
    if not plugin_enabled("notifications"):
        raise FieldErrors({"target": ["Enable the notifications plugin to send notices."]})
    from backhaul.plugins.notifications.api import notify

    sent = 0
    for row in listing(target=state.target, limit=1000):
        if row.notified_at is not None:
            continue
        notify(EVENT, row.account_id, {"device": state.name,
                                       "since": row.since.strftime("%Y-%m-%d %H:%M UTC")},
               dedupe_key=f"poller-outage:{row.target}:{row.account_id}:"
                          f"{row.since.isoformat()}")
        row.notified_at = utcnow()
        sent += 1
    db.session.flush()
    return sent
