"""Fair usage: a data service whose plan sets ``fair_usage_kbps`` (billing's data service
parameter) is throttled to that rate once it has used its allowance (plus top-ups) this
period, until the period ends or a top-up lifts it.

The decision is a state, not an event: every cap check (:func:`caps.check`: the RADIUS hook,
the collector's flush, a change of the account's services) computes which of the checked
services should be throttled and :func:`sync` writes the difference into
``usage_throttle``, asking the network plugin to reconcile the services that changed
(``api.reconcile_subscribers``: a reconcile job per device and RADIUS CoA). The network
plugin reads the throttles back through its ``network_desired_overrides`` hook
(:func:`overrides`), so the router's queue, the RADIUS reply and the CoA all carry the
throttled rate. Only the current period's rows count; a periodic job removes older ones
and reconciles those services (:func:`lift_expired`).
"""
from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import db, utcnow

from .models import Throttle
from .totals import month_of

log = logging.getLogger("backhaul.usage")


def current_period() -> date:
    return month_of(utcnow().date())[0]


def overrides(subscription_ids) -> dict[int, int]:
    """``{subscription: kbit/s}`` of the services throttled in the current period (one
    query; the network plugin's ``network_desired_overrides``)."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Throttle.subscription_id, Throttle.kbps).where(
        Throttle.subscription_id.in_(ids), Throttle.period_start == current_period())).all())


def sync(wanted: dict[int, tuple[int, int]], considered, period_start: date) -> set[int]:
    """Make the throttles of ``considered`` services exactly ``wanted`` (``{subscription:
    (kbit/s, account id)}``) for ``period_start`` (inside the caller's transaction). The
    services whose throttle started, changed or ended are reconciled; returns them."""
    considered = set(considered) | set(wanted)
    if not considered:
        return set()
    # the throttled are few (services over their cap), the checked many: read them all
    existing = {r.subscription_id: r for r in db.session.scalars(sa.select(Throttle))
                if r.subscription_id in considered}
    changed: set[int] = set()
    for sid, row in existing.items():
        keep = wanted.get(sid)
        if keep is None or row.period_start != period_start or row.kbps != keep[0]:
            db.session.delete(row)
            changed.add(sid)
    db.session.flush()
    now = utcnow()
    for sid, (kbps, account_id) in wanted.items():
        row = existing.get(sid)
        if row is not None and sid not in changed:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(Throttle(subscription_id=sid, account_id=account_id,
                                        period_start=period_start, kbps=kbps, since=now))
        except IntegrityError:  # another writer throttled it a moment ago
            continue
        changed.add(sid)
    if changed:
        from backhaul.plugins.network.api import reconcile_subscribers

        log.info("fair usage: throttle changed for %d service(s)", len(changed))
        reconcile_subscribers(changed)
    return changed


def lift_expired() -> int:
    """The periodic job: throttles of a past period end; their services are reconciled
    (idempotent: a second run finds nothing)."""
    rows = list(db.session.scalars(sa.select(Throttle).where(
        Throttle.period_start < current_period())))
    if rows:
        from backhaul.plugins.network.api import reconcile_subscribers

        ids = {r.subscription_id for r in rows}
        for row in rows:
            db.session.delete(row)
        db.session.flush()
        reconcile_subscribers(ids)
    db.session.commit()
    return len(rows)


def recheck_account(account_id: int) -> list[tuple[int, int]]:
    """An account's services changed (a top-up bought or ended, a plan changed): check its
    data services again, so a top-up lifts a throttle at once (inside the caller's
    transaction). Returns the thresholds newly fired (a top-up ended: perhaps 100%)."""
    from backhaul.plugins.billing.api import subscriptions

    from . import caps

    ids = {s.id for s in subscriptions(account_ids=[account_id], type_keys=["data"])}
    ids |= set(db.session.scalars(sa.select(Throttle.subscription_id).where(
        Throttle.account_id == account_id)))
    return caps.check(ids) if ids else []


def throttled(subscription_ids) -> dict[int, Throttle]:
    """The current period's throttles of these services (views, GraphQL)."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    return {r.subscription_id: r for r in db.session.scalars(sa.select(Throttle).where(
        Throttle.subscription_id.in_(ids), Throttle.period_start == current_period()))}
