"""Downsampling: numeric samples older than ``raw_hours`` become 5-minute averages, and
5-minute averages older than ``five_minute_days`` become hourly averages (``retention_days``
then prunes). Bucket edges are aligned to the step and the cut-off is aligned down to one,
so a bucket is never split between two runs: running it again changes nothing (the job is
idempotent). String samples are not averaged; retention prunes them."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import db

from .models import Sample

STEPS = ((0, 300), (300, 3600))
#: rows averaged per run off PostgreSQL (in Python); the next run takes the rest
PORTABLE_LIMIT = 200_000


def _aligned(at: datetime, step: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % step, UTC)


def downsample(now: datetime, raw_hours: int = 48, five_minute_days: int = 14) -> dict:
    """Average what is past each window; returns {step: rows replaced}."""
    done = {}
    for (source, step), window in zip(STEPS, (timedelta(hours=raw_hours),
                                              timedelta(days=five_minute_days)), strict=True):
        cutoff = _aligned(now - window, step)
        if db.engine.dialect.name == "postgresql":
            done[step] = _sql(source, step, cutoff)
        else:
            done[step] = _portable(source, step, cutoff)
        db.session.commit()
    return done


def _sql(source: int, step: int, cutoff: datetime) -> int:
    params = {"source": source, "step": step, "cutoff": cutoff}
    db.session.execute(sa.text(
        "INSERT INTO poller_sample (target, metric, at, value, resolution) "
        "SELECT target, metric, to_timestamp(floor(extract(epoch FROM at) / :step) * :step), "
        "avg(value), :step FROM poller_sample "
        "WHERE resolution = :source AND value IS NOT NULL AND at < :cutoff "
        "GROUP BY 1, 2, 3"), params)
    return db.session.execute(sa.text(
        "DELETE FROM poller_sample WHERE resolution = :source AND value IS NOT NULL "
        "AND at < :cutoff"), params).rowcount or 0


def _portable(source: int, step: int, cutoff: datetime) -> int:
    rows = db.session.execute(sa.select(Sample.id, Sample.target, Sample.metric, Sample.at,
                                        Sample.value).where(
        Sample.resolution == source, Sample.value.is_not(None), Sample.at < cutoff)
        .order_by(Sample.at).limit(PORTABLE_LIMIT)).all()
    if len(rows) == PORTABLE_LIMIT:  # keep whole buckets only: drop the last, cut one
        last = _aligned(rows[-1].at, step)
        rows = [r for r in rows if _aligned(r.at, step) < last]
    buckets: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        buckets[(row.target, row.metric, _aligned(row.at, step))].append(row.value)
    if buckets:
        db.session.execute(sa.insert(Sample), [
            {"target": t, "metric": m, "at": at, "value": sum(v) / len(v), "resolution": step}
            for (t, m, at), v in buckets.items()])
    ids = [r.id for r in rows]
    for at in range(0, len(ids), 1000):
        db.session.execute(sa.delete(Sample).where(Sample.id.in_(ids[at:at + 1000])))
    return len(ids)
