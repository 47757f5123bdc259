"""Allowances and thresholds: warn once per period when a service passes 80% and 100%.

The allowance of a data service is its ``allowance_gb`` parameter (billing's data service
type; absent or None: unlimited) plus top-ups: the ``extra_gb`` of the account's active
``general`` subscriptions (billing's "extra usage pack"). The period is the calendar month.
A threshold fires once per service and period: a ``usage_threshold_fired`` row is written
in the same transaction as the notification, under its primary key, so two writers cannot
both fire it. A service whose plan sets ``fair_usage_kbps`` is throttled at 100% (see
:mod:`.fair_usage`).
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from backhaul.sdk import current_plugin_settings, db, utcnow

from .models import ThresholdFired
from .totals import GB, counted, month_of

log = logging.getLogger("backhaul.usage")
EVENT = "usage.threshold"


def thresholds() -> list[int]:
    text = str(current_plugin_settings("usage").get("thresholds", "80,100"))
    return sorted({int(p) for p in text.replace(" ", "").split(",") if p.isdigit()})


def _capped(subscription_ids) -> dict[int, tuple]:
    """``{subscription: (its SubscriptionInfo, allowance in bytes)}`` for capped data
    services. Constant queries: a few services one by one (the RADIUS hook), many through
    one query for the active data subscriptions and one for the accounts' top-ups (the
    collector)."""
    from backhaul.plugins.billing.api import get_subscription, subscriptions

    wanted = set(subscription_ids)
    if len(wanted) <= 10:
        infos = [i for i in (get_subscription(s) for s in wanted) if i is not None]
    else:
        infos = [i for i in subscriptions(type_keys=["data"]) if i.id in wanted]
    capped = {i.id: i for i in infos
              if i.type_key == "data" and i.params.get("allowance_gb") is not None}
    if not capped:
        return {}
    extra: dict[int, int] = {}
    for s in subscriptions(account_ids={i.account_id for i in capped.values()},
                           type_keys=["general"]):
        extra[s.account_id] = extra.get(s.account_id, 0) + int(
            s.params.get("extra_gb") or 0) * s.quantity
    return {sub_id: (i, (int(i.params["allowance_gb"]) + extra.get(i.account_id, 0)) * GB)
            for sub_id, i in capped.items()}


def allowances(subscription_ids) -> dict[int, tuple[int, int]]:
    """``{subscription: (allowance in bytes, account id)}`` for capped data services."""
    return {sid: (allowance, info.account_id)
            for sid, (info, allowance) in _capped(subscription_ids).items()}


def check(subscription_ids, today: date | None = None) -> list[tuple[int, int]]:
    """Fire the thresholds that ``subscription_ids`` passed this month, and throttle (or
    lift the throttle of) those with a fair-usage rate (inside the caller's transaction).
    Returns ``[(subscription, percent)]`` newly fired."""
    from . import fair_usage

    today = today or utcnow().date()
    capped = _capped(subscription_ids)
    start, end = month_of(today)
    used = counted(capped, start, end) if capped else {}
    fired, throttle = [], {}
    levels = thresholds()
    for sub_id, (info, allowance) in capped.items():
        total = sum(used.get(sub_id, (0, 0)))
        percent = Decimal(total * 100) / allowance if allowance else Decimal(100)
        for level in levels:
            if percent >= level and _fire(sub_id, start, level):
                fired.append((sub_id, level))
                _notify(info.account_id, sub_id, level, total, allowance, start)
        kbps = info.params.get("fair_usage_kbps")
        if kbps and percent >= 100:
            throttle[sub_id] = (int(kbps), info.account_id)
    fair_usage.sync(throttle, subscription_ids, start)
    return fired


def _fire(sub_id: int, period_start: date, level: int) -> bool:
    if db.session.get(ThresholdFired, (sub_id, period_start, level)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ThresholdFired(subscription_id=sub_id, period_start=period_start,
                                          percent=level, fired_at=utcnow()))
    except IntegrityError:  # another writer fired it a moment ago
        return False
    return True


def _notify(account_id, sub_id, level, total, allowance, period_start) -> None:
    try:
        from backhaul.plugins.notifications.api import notify
    except ImportError:  # notifications not installed
        return
    context = {"usage": {"percent": level, "used_gb": _gb(total),
                         "allowance_gb": _gb(allowance), "subscription_id": sub_id,
                         "period": period_start.strftime("%B %Y")}}
    notify(EVENT, account_id, context,
           dedupe_key=f"usage:{sub_id}:{period_start.isoformat()}:{level}")


def _gb(octets: int) -> str:
    return str((Decimal(octets) / GB).quantize(Decimal("0.01")))


def event_types():
    from backhaul.plugins.notifications.api import EventType, Variable

    text = ("Hello,\n\nyour internet service has used {{ usage.used_gb }} GB of its "
            "{{ usage.allowance_gb }} GB allowance for {{ usage.period }} "
            "({{ usage.percent }}%).\n")
    return [EventType(
        EVENT, "Data usage threshold reached", category="service",
        variables=(Variable("usage.percent", "Threshold passed (percent)", 80),
                   Variable("usage.used_gb", "Used this period (GB)", "80.00"),
                   Variable("usage.allowance_gb", "Allowance (GB)", "100.00"),
                   Variable("usage.subscription_id", "Service (subscription id)", 1),
                   Variable("usage.period", "The period", "December 2026")),
        defaults={"email": ("Data usage: {{ usage.percent }}% of your allowance", text,
                            None)})]
