"""A tenant moves out: every subscription ends on the move-out date.

The core records the move-out (status with reason ``"move_out"``, address freed) and
announces it with ``account_status_changed``; billing reacts here. What happens to a period
already billed in advance is the ISP's choice, ``move_out_credit`` in ``[plugins.billing]``:

* ``"prorate"`` (default): lines end on the move-out date; for prorated services the next
  run credits ``[move-out date, billed through)`` to the day (the usual split rule of
  :mod:`.subscriptions`), and nothing after the date is billed;
* ``"none"``: lines end where they are billed through (no credit, nothing more billed).

Lines that would only start after the move-out (never billed) are removed.
Idempotent: a second call finds nothing open.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, emit

from .models import Subscription

CREDIT_POLICIES = ("prorate", "none")


def today() -> date:
    """The move-out date: the day the scheduler (or staff) carries it out."""
    return date.today()


def open_subscriptions(account_id: int, on: date) -> list[Subscription]:
    """Lines of ``account_id`` still running (or yet to start) on ``on``."""
    return list(db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == account_id,
        sa.or_(Subscription.end_date.is_(None), Subscription.end_date > on))
        .order_by(Subscription.id)))


def end_date_for(sub: Subscription, on: date, policy: str) -> date | None:
    """Where ``sub`` ends for a move-out on ``on`` under ``policy`` (see the module);
    ``None``: the line never started and was never billed, so it is removed."""
    if sub.start_date >= on:
        if sub.billed_through is None:
            return None
        # billed ahead of its start: the shortest line there is (its first day) under
        # "prorate", what was billed under "none"
        return sub.billed_through if policy == "none" else sub.start_date + timedelta(days=1)
    if policy == "none" and sub.billed_through and sub.billed_through > on:
        return sub.billed_through
    return on


def end_services(account_id: int, on: date, policy: str = "prorate") -> list[Subscription]:
    """End every line of the account for a move-out on ``on``. Flushes; does not commit."""
    if policy not in CREDIT_POLICIES:
        raise ValueError(f"move_out_credit must be one of {CREDIT_POLICIES}")
    ended = []
    for sub in open_subscriptions(account_id, on):
        end = end_date_for(sub, on, policy)
        if end is None:
            db.session.delete(sub)
        else:
            sub.end_date = end
            ended.append(sub)
        emit("service_changed", account_id=account_id, subscription_id=sub.id, change="ended")
    db.session.flush()
    return ended
