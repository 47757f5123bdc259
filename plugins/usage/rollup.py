"""Rollups: add bytes per service, source and hour (and day), in one batch per call.

Both the RADIUS hook (one accounting update) and the collector (a second's worth of flows)
hand :func:`add` a list of :class:`Delta`; it sums them in memory and writes one
``INSERT ... ON CONFLICT DO UPDATE`` per table (PostgreSQL: the rows as arrays, unnested
by the server, one round trip; SQLite: executemany), so a
flow never costs a transaction of its own and concurrent writers add instead of overwrite.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

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
    from sqlalchemy.dialects.sqlite import insert

    return insert(table)


def _pg_type(column) -> str:
    kind = column.type
    if isinstance(kind, sa.BigInteger):
        return "bigint"
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Date) and not isinstance(kind, sa.DateTime):
        return "date"
    if isinstance(kind, sa.String):
        return "text"
    return "timestamptz"  # UTCDateTime


def _upsert(model, keys: tuple[str, ...], rows: list[tuple], counters: tuple[str, ...]) -> None:
    """Add ``rows`` (unique keys; tuples in ``(*keys, *counters)`` order) into ``model``'s
    table: one statement per call."""
    if not rows:
        return
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # one round trip whatever the number of rows: arrays unnested server-side
        names = (*keys, *counters)
        arrays = ", ".join(f"CAST(:c{i} AS {_pg_type(table.c[n])}[])"
                           for i, n in enumerate(names))
        updates = ", ".join(f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in counters)
        statement = sa.text(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")
        columns = list(zip(*rows, strict=True))
        db.session.execute(statement, {f"c{i}": list(columns[i]) for i in range(len(names))})
        return
    stmt = _insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: getattr(table.c, c) + getattr(stmt.excluded, c) for c in counters})
    names = (*keys, *counters)
    db.session.execute(stmt, [dict(zip(names, row, strict=True)) for row in rows])


def add(deltas: Iterable[Delta]) -> set[int]:
    """Add ``deltas`` to the hourly and daily rollups (no commit). Returns the services."""
    hours: dict[tuple[int, datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    for d in deltas:
        if d.down <= 0 and d.up <= 0:
            continue
        bucket = hours[(d.subscription_id, hour_of(d.at), d.source)]
        bucket[0] += max(0, d.down)
        bucket[1] += max(0, d.up)
    return add_hours(hours)


def add_hours(hours: dict[tuple[int, datetime, str], list[int]]) -> set[int]:
    """Add ``{(subscription, hour, source): [down, up]}`` (hours already summed, e.g. by the
    collector's attribution) to the hourly rollup and, summed by day, to the daily one (no
    commit). Returns the services."""
    days: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = []
    for (sub, hour, source), (down, up) in sorted(hours.items()):
        if down <= 0 and up <= 0:
            continue
        rows.append((sub, hour, source, down, up))
        day = days[(sub, hour.date(), source)]
        day[0] += down
        day[1] += up
    counters = ("bytes_down", "bytes_up")
    _upsert(Hourly, ("subscription_id", "hour", "source"), rows, counters)
    _upsert(Daily, ("subscription_id", "day", "source"),
            [(s, d, src, v[0], v[1]) for (s, d, src), v in sorted(days.items())], counters)
    return {row[0] for row in rows}


def add_unattributed(rows: dict[tuple[str, datetime], list[int]]) -> None:
    """``{(exporter, hour): [bytes, flows]}`` added to the unattributed rollup."""
    _upsert(Unattributed, ("exporter", "hour"),
            [(e, h, v[0], v[1]) for (e, h), v in sorted(rows.items())], ("bytes", "flows"))


__all__ = ["Delta", "add", "add_hours", "add_unattributed", "hour_of"]
