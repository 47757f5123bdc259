"""Against snmpsim serving 500 simulated agents (each its own data, its own community): one
poll cycle of all 500 completes within the template's interval, and every agent's own
values (not another agent's) are stored."""
from __future__ import annotations

import shutil
import time

import pytest
import sqlalchemy as sa
from poller_helpers import run_async

from backhaul.plugins.poller import service
from backhaul.plugins.poller.loop import PollLoop
from backhaul.plugins.poller.models import Sample, TargetState
from backhaul.plugins.poller.targets import load_targets
from backhaul.sdk import db
from backhaul.sdk.testing.snmpsim import COUNTER64, GAUGE32, OCTETS, AgentFarm

AGENTS = 500
INTERVAL = 60


def records(i: int):
    return [("1.3.6.1.2.1.1.1.0", OCTETS, f"simulated radio {i}"),
            ("1.3.6.1.4.1.99999.1", GAUGE32, 1000 + i),
            ("1.3.6.1.2.1.31.1.1.1.6.1", COUNTER64, 2**40 + i)]


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    if shutil.which("snmpsim-command-responder") is None:
        from backhaul.sdk.testing import pytest_plugin

        pytest_plugin.peer_missing("snmpsim (pip install snmpsim pysmi)")
    agents = AgentFarm(tmp_path_factory.mktemp("snmpsim"), AGENTS, records).start()
    yield agents
    agents.stop()


def test_500_agents_one_cycle_within_interval(app, farm):
    from backhaul.plugins.network.models import Device

    devices = [Device(name=f"radio-{i}", backend="testkit.directory", host=farm.host,
                      role="radio") for i in range(AGENTS)]
    db.session.add_all(devices)
    db.session.flush()
    for i, device in enumerate(devices):
        tpl = service.save_template({
            "name": f"radio {i}", "interval": INTERVAL, "icmp_enabled": False,
            "snmp_enabled": True, "snmp_community": farm.community(i),
            "snmp_port": farm.port, "snmp_timeout": 5.0, "oids": [
                {"name": "descr", "oid": "1.3.6.1.2.1.1.1.0", "type": "string"},
                {"name": "temp", "oid": "1.3.6.1.4.1.99999.1", "type": "gauge"},
                {"name": "in", "oid": "1.3.6.1.2.1.31.1.1.1.6.1", "type": "counter"}]})
        service.apply_template(tpl.id, "device", str(device.id))
    db.session.commit()
    targets = load_targets()
    assert len(targets) == AGENTS

    async def cycle():
        loop = PollLoop(concurrency=100)
        started = time.monotonic()
        assert loop.tick(targets, now=0.0) == AGENTS
        await loop.drain()
        return loop, time.monotonic() - started

    loop, seconds = run_async(cycle())
    assert seconds < INTERVAL, f"one cycle took {seconds:.1f} s"
    assert loop.flush() == AGENTS
    index = {f"device:{d.id}": i for i, d in enumerate(devices)}
    states = db.session.scalars(sa.select(TargetState)).all()
    assert len(states) == AGENTS
    assert {s.target: (s.state, s.reason) for s in states} == {
        key: ("up", "") for key in index}
    temps = dict(db.session.execute(sa.select(Sample.target, Sample.value).where(
        Sample.metric == "temp")).all())
    assert temps == {key: 1000.0 + i for key, i in index.items()}
    descrs = dict(db.session.execute(sa.select(Sample.target, Sample.text).where(
        Sample.metric == "descr")).all())
    assert descrs == {key: f"simulated radio {i}" for key, i in index.items()}
    counters = {s.target: s.counters["in"][0] for s in states}
    assert counters == {key: 2**40 + i for key, i in index.items()}
