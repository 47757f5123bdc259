"""Rollups: add bytes per service, source and hour (and day), in one batch per call.

Both the RADIUS hook (one accounting update) and the collector (a second's worth of flows)
hand :func:`add` a list of :class:`Delta`; it sums them in memory and writes one
``INSERT ... ON CONFLICT DO UPDATE`` per table (PostgreSQL and SQLite both have it), so a
flow never costs a transaction of its own and concurrent writers add instead of overwrite.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from backhaul.sdk import db

from .models import Daily, Hourly, Unattributed


@dataclass(frozen=True)
class Delta:
    subscription_id: int
    at: datetime
    down: int
    up: int
    source: str


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _upsert(model, keys: tuple[str, ...], rows: list[dict], counters: tuple[str, ...]) -> None:
    if not rows:
        return
    stmt = _insert(model.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: getattr(model.__table__.c, c) + getattr(stmt.excluded, c) for c in counters})
    db.session.execute(stmt, rows)


def add(deltas: Iterable[Delta]) -> set[int]:
    """Add ``deltas`` to the hourly and daily rollups (no commit). Returns the services."""
    hours: dict[tuple[int, datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    days: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0])
    for d in deltas:
        if d.down <= 0 and d.up <= 0:
            continue
        for bucket, key in ((hours, (d.subscription_id, hour_of(d.at), d.source)),
                            (days, (d.subscription_id, d.at.date(), d.source))):
            bucket[key][0] += max(0, d.down)
            bucket[key][1] += max(0, d.up)
    counters = ("bytes_down", "bytes_up")
    _upsert(Hourly, ("subscription_id", "hour", "source"),
            [dict(subscription_id=s, hour=h, source=src, bytes_down=v[0], bytes_up=v[1])
             for (s, h, src), v in sorted(hours.items())], counters)
    _upsert(Daily, ("subscription_id", "day", "source"),
            [dict(subscription_id=s, day=dd, source=src, bytes_down=v[0], bytes_up=v[1])
             for (s, dd, src), v in sorted(days.items())], counters)
    return {key[0] for key in hours}


def add_unattributed(rows: dict[tuple[str, datetime], list[int]]) -> None:
    """``{(exporter, hour): [bytes, flows]}`` added to the unattributed rollup."""
    _upsert(Unattributed, ("exporter", "hour"),
            [dict(exporter=e, hour=h, bytes=v[0], flows=v[1])
             for (e, h), v in sorted(rows.items())], ("bytes", "flows"))


__all__ = ["Delta", "add", "add_unattributed", "hour_of"]
