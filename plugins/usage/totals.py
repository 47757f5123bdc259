"""Reading the rollups: which source counts for a service, and what it used in a range.

Both sources are rolled up side by side; only the chosen one counts (for caps, invoices and
what the tenant sees), so bytes that RADIUS and NetFlow both saw are never counted twice.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import current_plugin_settings, db

from .models import SOURCES, Daily, SourceChoice

GB = 10**9  # decimal gigabytes, as ISPs sell them


def default_source() -> str:
    return current_plugin_settings("usage").get("default_source", "radius")


def chosen_sources(subscription_ids: Iterable[int]) -> dict[int, str]:
    ids = list(subscription_ids)
    chosen = dict(db.session.execute(sa.select(
        SourceChoice.subscription_id, SourceChoice.source).where(
        SourceChoice.subscription_id.in_(ids))).all()) if ids else {}
    fallback = default_source()
    return {i: chosen.get(i, fallback) for i in ids}


def set_source(subscription_id: int, source: str | None) -> str:
    """Choose the counted source of a service (None: back to the default)."""
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    row = db.session.get(SourceChoice, subscription_id)
    if source is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(SourceChoice(subscription_id=subscription_id, source=source))
    else:
        row.source = source
    db.session.flush()
    return source or default_source()


def counted(subscription_ids: Iterable[int], start: date, end: date
            ) -> dict[int, tuple[int, int]]:
    """``{subscription: (down, up)}`` of the chosen source over days ``[start, end)``."""
    chosen = chosen_sources(subscription_ids)
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if not chosen:
        return {}
    rows = db.session.execute(sa.select(
        Daily.subscription_id, Daily.source, sa.func.sum(Daily.bytes_down),
        sa.func.sum(Daily.bytes_up)).where(
        Daily.subscription_id.in_(list(chosen)), Daily.day >= start, Daily.day < end)
        .group_by(Daily.subscription_id, Daily.source))
    for sub, source, down, up in rows:
        if chosen[sub] == source:
            out[sub][0] += int(down or 0)
            out[sub][1] += int(up or 0)
    return {s: (out[s][0], out[s][1]) for s in chosen}


def month_of(day: date) -> tuple[date, date]:
    """The calendar month holding ``day``: ``[first, first of next)``."""
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period before ``[start, end)``: the previous calendar month when the period is
    one, else the same number of days before."""
    if start.day == 1 and end == month_of(start)[1]:
        return month_of(start - timedelta(days=1))
    return start - (end - start), start


def daily_series(subscription_id: int, start: date, end: date) -> list[dict]:
    rows = db.session.execute(sa.select(Daily).where(
        Daily.subscription_id == subscription_id, Daily.day >= start, Daily.day < end)
        .order_by(Daily.day, Daily.source)).scalars()
    return [dict(day=r.day, source=r.source, down=r.bytes_down, up=r.bytes_up) for r in rows]


def top(start: date, end: date, first: int = 20) -> list[tuple[int, int, int]]:
    """The services that used most over ``[start, end)`` by their counted source:
    ``[(subscription, down, up)]``, largest total first."""
    rows = db.session.execute(sa.select(
        Daily.subscription_id, Daily.source, sa.func.sum(Daily.bytes_down),
        sa.func.sum(Daily.bytes_up)).where(Daily.day >= start, Daily.day < end)
        .group_by(Daily.subscription_id, Daily.source)).all()
    chosen = chosen_sources({r[0] for r in rows})
    totals = [(sub, int(down or 0), int(up or 0)) for sub, source, down, up in rows
              if chosen[sub] == source]
    totals.sort(key=lambda t: (-(t[1] + t[2]), t[0]))
    return totals[:max(1, min(int(first), 500))]
