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


def _upsert(model, keys: tuple[str, ...], rows: list[dict], counters: tuple[str, ...]) -> None:
    """Add ``rows`` (unique keys) into ``model``'s table: one statement per call."""
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
        db.session.execute(statement, {f"c{i}": [r[n] for r in rows]
                                       for i, n in enumerate(names)})
        return
    stmt = _insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: getattr(table.c, c) + getattr(stmt.excluded, c) for c in counters})
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
