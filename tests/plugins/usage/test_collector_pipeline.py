"""The collector's pipeline in process (no socket): batches of flows in one transaction,
raw flows kept only when configured and pruned after their window, unknown exporters
refused and counted, malformed datagrams and loss counted, options records ignored."""
from __future__ import annotations

import socket
import struct
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from usage_helpers import make_subscriber

from backhaul.plugins.usage.collector import Pipeline
from backhaul.plugins.usage.jobs import prune_flows
from backhaul.plugins.usage.models import Daily, Flow, Unattributed
from backhaul.sdk import db


def _v5(flows, sequence, export):
    head = struct.pack("!HHIIIIBBH", 5, len(flows), 100_000, int(export.timestamp()), 0,
                       sequence, 0, 0, 0)
    return head + b"".join(socket.inet_aton(s) + socket.inet_aton(d) + bytes(8)
                           + struct.pack("!IIII", 1, octets, 90_000, 99_000) + bytes(16)
                           for s, d, octets in flows)


def _settings(**extra):
    return {"exporters": "", "raw_flow_hours": 0, "thresholds": "", **extra}


def test_batches_raw_flows_and_counters(app):
    _, sub, _ = make_subscriber(app)
    now = datetime.now(UTC) + timedelta(seconds=10)  # flows after the address was assigned
    pipeline = Pipeline(_settings(raw_flow_hours=2, exporters="127.0.0.1"))
    flows = [("203.0.113.5", "100.64.20.7", 1000), ("100.64.20.7", "203.0.113.5", 300),
             ("203.0.113.5", "100.64.99.9", 77)]
    pipeline.feed(_v5(flows, 0, now), "127.0.0.1")
    pipeline.feed(_v5(flows[:1], 3 + 4, now), "127.0.0.1")  # 4 flows never arrived
    pipeline.feed(b"\x00\x05garbage", "127.0.0.1")
    pipeline.feed(_v5(flows, 0, now), "192.0.2.99")  # not an allowed exporter
    assert pipeline.flush() == 4
    assert pipeline.stats["lost"] == 4 and pipeline.stats["malformed"] == 1
    assert pipeline.stats["unknown_exporter_packets"] == 1
    assert pipeline.health()["unknown_exporters"] == ["192.0.2.99"]
    down, up = db.session.execute(sa.select(Daily.bytes_down, Daily.bytes_up).where(
        Daily.subscription_id == sub.id)).one()
    assert (down, up) == (2000, 300)
    assert db.session.scalar(sa.select(sa.func.sum(Unattributed.bytes))) == 77
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 4
    holders = db.session.execute(sa.select(Flow.bytes, Flow.subscription_id)
                                 .order_by(Flow.id)).all()
    assert holders == [(1000, sub.id), (300, sub.id), (77, None), (1000, sub.id)]


@pytest.fixture
def usage_settings():
    return {"raw_flow_hours": 2}  # what prune_flows reads


def test_raw_flows_are_not_written_by_default_and_pruned_after_their_window(app):
    now = datetime.now(UTC)
    default = Pipeline(_settings())
    default.feed(_v5([("203.0.113.5", "100.64.99.9", 5)], 0, now), "127.0.0.1")
    default.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 0
    keeping = Pipeline(_settings(raw_flow_hours=2))
    keeping.feed(_v5([("203.0.113.5", "100.64.99.9", 5)] * 2, 0, now), "127.0.0.1")
    keeping.flush()
    db.session.execute(sa.update(Flow).values(at=now - timedelta(hours=3)).where(
        Flow.id == db.session.scalar(sa.select(sa.func.min(Flow.id)))))
    db.session.commit()
    assert prune_flows() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flow)) == 1
