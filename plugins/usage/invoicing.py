"""Usage on invoices (billing's ``invoice_lines`` hook): per capped data service, the usage
of the previous period (usage is billed in arrears) as two lines — free usage within the
allowance at zero, and usage over it at the ``overage_per_gb`` rate.

Quantities are decimal gigabytes (10^9 bytes) rounded *up* to the ``gb_decimals`` setting
(ROUND_CEILING: a started thousandth of a GB is billed) after the split, so free plus
billable equals the rounded total; billing rounds the amount once, half-even. With no rate
set (``overage_per_gb`` "0") no lines are added at all.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from backhaul.sdk import Money, current_plugin_settings

from .totals import GB, counted, previous_period


def _gb(octets: int, places: int) -> Decimal:
    return (Decimal(octets) / GB).quantize(Decimal(1).scaleb(-places), rounding=ROUND_CEILING)


def lines(account, period) -> list:
    from backhaul.plugins.billing.api import ContributedLine, Period, subscriptions

    from .caps import allowances

    settings = current_plugin_settings("usage")
    rate = Decimal(str(settings.get("overage_per_gb") or "0"))
    if rate <= 0:
        return []
    currency = current_plugin_settings("billing").get("currency", "USD")
    start, end = previous_period(period.start, period.end)
    span = Period(start, end)
    found = {}
    for day in (start, span.last_day):  # a service that started or ended within the period
        for s in subscriptions(account_ids=[account.id], type_keys=["data"], on=day):
            found.setdefault(s.id, s)
    subs = list(found.values())
    capped = allowances({s.id for s in subs})
    used = counted(capped, start, end)
    places = int(settings.get("gb_decimals", 3))
    out = []
    for sub in sorted(subs, key=lambda s: s.id):
        if sub.id not in capped:
            continue
        allowance, _ = capped[sub.id]
        total = sum(used.get(sub.id, (0, 0)))
        free, over = min(total, allowance), max(0, total - allowance)
        label = f"{sub.service_name}, {start:%d %b} - {span.last_day:%d %b %Y}"
        out.append(ContributedLine(
            description=f"Data included in plan: {_gb(free, places)} of "
                        f"{_gb(allowance, 0)} GB ({label})",
            unit_price=Money(0, currency), quantity=_gb(free, places), period=span))
        if over:
            unit = Money.parse(str(rate), currency)
            out.append(ContributedLine(
                description=f"Data over allowance: {_gb(over, places)} GB at {rate} "
                            f"{currency}/GB ({label})",
                unit_price=unit, quantity=_gb(over, places), period=span))
    return out
