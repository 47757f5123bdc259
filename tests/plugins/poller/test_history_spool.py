"""History kept at full resolution, then 5-minute and hourly averages (expected values
computed by hand); results kept on disk while PostgreSQL refuses connections (a real
outage: the database's connection limit set to 0 and its sessions ended) and written when
it takes them again."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from poller_helpers import make_device, run_async

from backhaul.plugins.poller import service
from backhaul.plugins.poller.downsample import downsample
from backhaul.plugins.poller.loop import PollLoop
from backhaul.plugins.poller.models import Sample, TargetState
from backhaul.plugins.poller.spool import Spool
from backhaul.plugins.poller.targets import load_targets
from backhaul.sdk import db

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _rows():
    return sorted((s.metric, s.at, s.value, s.text, s.resolution)
                  for s in db.session.scalars(sa.select(Sample)))


def test_downsampling_to_five_minutes_and_hours(app):
    samples = []
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # before the 48 h window
    samples += [{"target": "device:1", "metric": "m", "at": start + timedelta(minutes=i),
                 "value": float(i)} for i in range(15)]
    old = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # before the 14-day window
    samples += [{"target": "device:1", "metric": "m", "at": old + timedelta(minutes=i),
                 "value": float(i)} for i in range(60)]
    recent = datetime(2026, 12, 3, 9, 1, tzinfo=UTC)
    samples += [{"target": "device:1", "metric": "m", "at": recent, "value": 5.0},
                {"target": "device:1", "metric": "descr", "at": start, "text": "Linux"}]
    db.session.execute(sa.insert(Sample), samples)
    db.session.commit()
    done = downsample(NOW, raw_hours=48, five_minute_days=14)
    assert done == {300: 75, 3600: 12}
    five = lambda minute: datetime(2026, 12, 1, 10, minute, tzinfo=UTC)  # noqa: E731
    assert _rows() == sorted([
        ("m", five(0), 2.0, None, 300), ("m", five(5), 7.0, None, 300),
        ("m", five(10), 12.0, None, 300),
        ("m", old, 29.5, None, 3600),  # the mean of 0..59
        ("m", recent, 5.0, None, 0), ("descr", start, None, "Linux", 0)])
    before = _rows()
    assert downsample(NOW, raw_hours=48, five_minute_days=14) == {300: 0, 3600: 0}
    assert _rows() == before


@pytest.fixture
def outage(app):
    """``outage.start()`` / ``outage.end()``: PostgreSQL refuses this database's sessions."""
    from backhaul.sdk.testing.outage import DatabaseOutage

    if db.engine.url.get_backend_name() != "postgresql":
        pytest.skip("the outage is made with PostgreSQL's connection limit")
    made = DatabaseOutage(db.engine.url)
    yield made
    made.close()


def test_results_spooled_while_database_refuses_and_sent_after(app, outage, tmp_path):
    device = make_device("core-1", "127.0.0.1", role="router")
    tpl = service.save_template({"name": "ping", "icmp_count": 1, "icmp_timeout": 0.5})
    service.apply_template(tpl.id, "role", "router")
    db.session.commit()
    targets = load_targets()
    db.session.commit()
    spool = Spool(tmp_path / "spool")
    loop = PollLoop(spool=spool)
    loop.targets = {t.key: t for t in targets}

    async def cycle(now):
        loop.tick(targets, now=now)
        await loop.drain()
        return [r.at for r in loop.done]

    outage.start()
    times = []
    for now in (0.0, 100.0):
        times += run_async(cycle(now))
        assert loop.flush() == 0
    assert len(spool) == 2 and loop.done == []
    with pytest.raises(sa.exc.OperationalError):  # the database really is away
        db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()
    outage.end()
    written = 0
    for _ in range(3):  # the first try may meet a pooled connection that was ended
        written += loop.flush()
        if not len(spool):
            break
    assert written == 2 and len(spool) == 0
    key = f"device:{device.id}"
    stored = db.session.scalars(sa.select(Sample.at).where(
        Sample.target == key, Sample.metric == "icmp.loss").order_by(Sample.at)).all()
    assert stored == times
    assert db.session.get(TargetState, key).polled_at == times[-1]


def test_spool_is_bounded(tmp_path):
    from backhaul.plugins.poller.store import PollResult
    from backhaul.plugins.poller.targets import Target

    spool = Spool(tmp_path, max_bytes=2000)
    target = Target("device:1", "d", "127.0.0.1", None, ())
    for _ in range(20):
        spool.put([PollResult(target, NOW, errors=["x" * 300])])
    assert sum(f.stat().st_size for f in spool.files()) <= 2000
    assert spool.dropped > 0 and len(spool) > 0


def test_spool_keeps_no_credentials(tmp_path):
    from backhaul.plugins.poller.snmp_icmp import SnmpResult
    from backhaul.plugins.poller.store import PollResult
    from backhaul.plugins.poller.targets import Target, TemplateSpec

    spec = TemplateSpec(1, "t", 60, False, 1, 0.1, 0.5, 20, 200, True, "c0mmunity", 161, 1.0,
                        version="3", usm=("u", "SHA-256", "auth-secret", "AES-128", "priv-s"))
    target = Target("device:1", "d", "127.0.0.1", None, (spec,))
    path = Spool(tmp_path).put([PollResult(target, NOW, snmp=SnmpResult({"x": (1, 0)}))])
    text = path.read_text()
    assert "auth-secret" not in text and "priv-s" not in text and "c0mmunity" not in text
