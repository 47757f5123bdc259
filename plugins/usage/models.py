"""The usage plugin's tables (prefix ``usage_``); migration ``usage_0001``.

Rollups are the product: bytes per service (subscription), source and hour, and the same
per day. Both sources (RADIUS accounting and NetFlow) are rolled up side by side; a
per-service source choice (:class:`SourceChoice`, default from the settings) decides which
one counts, so the same bytes are never counted twice. Traffic whose addresses belong to no
service is rolled up apart (:class:`Unattributed`). Raw flows are kept only when the
``raw_flow_hours`` setting asks for it.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import UTCDateTime, db

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SOURCES = ("radius", "netflow")


class Hourly(db.Model):
    __tablename__ = "usage_hourly"

    subscription_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: bytes to the subscriber
    bytes_down: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    #: bytes from the subscriber
    bytes_up: Mapped[int] = mapped_column(sa.BigInteger(), default=0)


class Daily(db.Model):
    __tablename__ = "usage_daily"

    subscription_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    bytes_down: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    bytes_up: Mapped[int] = mapped_column(sa.BigInteger(), default=0)


class Unattributed(db.Model):
    """Flows whose addresses no service held at the time, per exporter and hour."""

    __tablename__ = "usage_unattributed"

    exporter: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    bytes: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    flows: Mapped[int] = mapped_column(sa.BigInteger(), default=0)


class SourceChoice(db.Model):
    """Which source counts for a service (absent: the ``default_source`` setting)."""

    __tablename__ = "usage_source_choice"

    subscription_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(sa.String(16))


class Template(db.Model):
    """A NetFlow v9 / IPFIX template as an exporter defined it; survives a restart."""

    __tablename__ = "usage_template"

    exporter: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    domain: Mapped[int] = mapped_column(sa.BigInteger(), primary_key=True,
                                        autoincrement=False)
    template_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: ``[[field type, length, enterprise or 0], ...]``
    fields: Mapped[list] = mapped_column(sa.JSON)
    #: an options template: its records describe the exporter and are skipped
    options: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExporterClock(db.Model):
    """When an IPFIX exporter's uptime clock started (systemInitTimeMilliseconds, from its
    options records): flow times are relative to it, so it survives a restart too."""

    __tablename__ = "usage_exporter_clock"

    exporter: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    domain: Mapped[int] = mapped_column(sa.BigInteger(), primary_key=True,
                                        autoincrement=False)
    init_ms: Mapped[int] = mapped_column(sa.BigInteger())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ThresholdFired(db.Model):
    """A cap threshold that fired for a service in a period (so it fires once)."""

    __tablename__ = "usage_threshold_fired"

    subscription_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    percent: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Flow(db.Model):
    """A raw flow, kept ``raw_flow_hours`` (0: never written)."""

    __tablename__ = "usage_flow"

    id: Mapped[int] = mapped_column(BIG, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    exporter: Mapped[str] = mapped_column(sa.String(64))
    src: Mapped[str] = mapped_column(sa.String(64))
    dst: Mapped[str] = mapped_column(sa.String(64))
    bytes: Mapped[int] = mapped_column(sa.BigInteger())
    packets: Mapped[int] = mapped_column(sa.BigInteger())
    subscription_id: Mapped[int | None] = mapped_column(index=True)


class Throttle(db.Model):
    """A data service throttled for the rest of a period because it used its allowance
    (fair usage: the service's ``fair_usage_kbps``). Only the current period's rows count;
    a top-up or a new period lifts it (the row goes)."""

    __tablename__ = "usage_throttle"

    subscription_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(index=True)
    period_start: Mapped[date] = mapped_column()
    kbps: Mapped[int] = mapped_column()
    since: Mapped[datetime] = mapped_column(UTCDateTime())
