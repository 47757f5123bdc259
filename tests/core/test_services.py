"""``backhaul serve NAME --shard I/N``: a real subprocess runs a plugin's service, beats, shows
on the Plugins page, and stops cleanly on SIGTERM.

The plugin is a real installed distribution (a package plus a ``.dist-info`` with its entry
point, on ``PYTHONPATH``), so the subprocess discovers it exactly as it would a third-party
plugin installed with pip.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from backhaul.core.services import ServiceHeartbeat, parse_shard
from backhaul.sdk import Shard, db
from backhaul.sdk.testing import app_environ

PLUGIN = '''
"""An in-test plugin with one long-running service that writes what it sees to a file."""
import os
import threading

from backhaul.sdk import PluginMeta, Service, hookimpl

META = PluginMeta(name="acme_ticker", description="ticks")
OUT = os.environ["ACME_TICKER_OUT"]


class Ticker(Service):
    name = "acme_ticker.ticker"
    label = "Acme ticker"
    heartbeat_seconds = 0.2
    grace_seconds = 5

    def __init__(self):
        self.ticks = 0

    def run(self, stop, shard):
        owned = [n for n in range(12) if shard.owns(n)]
        with open(OUT, "a") as out:
            out.write(f"started {shard} owns {owned}\\n")
        while not stop.wait(0.05):
            self.ticks += 1
        with open(OUT, "a") as out:
            out.write("stopped cleanly\\n")

    def health(self):
        return {"ticks": self.ticks}


@hookimpl
def long_running_services():
    return [Ticker()]
'''


@pytest.fixture
def installed_plugin(tmp_path) -> Path:
    site = tmp_path / "site"
    (site / "acme_ticker").mkdir(parents=True)
    (site / "acme_ticker" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    dist = site / "acme_ticker-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-ticker\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[backhaul.plugins]\nacme_ticker = acme_ticker\n")
    return site


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return None


def _beat(app):
    with app.app_context():
        db.session.remove()
        return db.session.scalar(sa.select(ServiceHeartbeat).where(
            ServiceHeartbeat.service == "acme_ticker.ticker"))


def test_a_service_runs_as_a_subprocess_beats_and_stops_on_sigterm(
        make_app, installed_plugin, tmp_path, staff_user, login):
    app = make_app(plugins=[])
    out = tmp_path / "ticker.log"
    env = app_environ(app, BACKHAUL_PLUGINS="acme_ticker", ACME_TICKER_OUT=str(out),
                      PYTHONPATH=str(installed_plugin))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("backhaul")), "serve",
                             "acme_ticker.ticker", "--shard", "2/3"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        beat = _wait(lambda: (b := _beat(app)) and (b.detail or {}).get("ticks", 0) > 0 and b)
        assert beat is not None, proc.stdout.read() if proc.poll() is not None else "no beat"
        assert (beat.status, beat.shard, beat.pid) == ("running", "2/3", proc.pid)
        assert "started 2/3 owns" in out.read_text()

        # the Plugins page shows its health line (the page runs in the test's app, which
        # knows the service only from its heartbeat)
        with app.app_context():
            client = app.test_client()
            login(client, staff_user(["core.plugins.view"]))
            page = client.get("/plugins").get_data(as_text=True)
        assert "acme_ticker.ticker" in page and ">running<" in page and "ticks:" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0, proc.stdout.read()
    assert out.read_text().splitlines()[-1] == "stopped cleanly"
    assert _beat(app).status == "stopped"


def test_the_shards_split_the_work_without_overlap():
    keys = range(1000)
    parts = [{k for k in keys if Shard(i, 4).owns(k)} for i in range(1, 5)]
    assert set().union(*parts) == set(keys)
    assert sum(len(p) for p in parts) == 1000, "no key is owned twice"
    assert all(150 < len(p) < 350 for p in parts), "roughly even"
    assert parse_shard("2/4") == Shard(2, 4) and parse_shard(None) == Shard(1, 1)
    for bad in ("0/4", "5/4", "2", "a/b"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_serving_an_unknown_service_names_the_known_ones(make_app):
    from backhaul.sdk.testing import run_cli

    app = make_app(plugins=["example"])
    result = run_cli(app, "serve", "nope")
    assert result.exit_code != 0
    assert "no service named 'nope'" in result.output and "example.greeter" in result.output
    bad = run_cli(app, "serve", "example.greeter", "--shard", "7/2")
    assert bad.exit_code != 0 and "I/N" in bad.output


def test_a_stale_heartbeat_shows_as_stale(make_app, staff_user, login):
    from datetime import timedelta

    from backhaul.sdk import utcnow

    app = make_app(plugins=["example"])
    with app.app_context():
        db.session.add(ServiceHeartbeat(service="example.greeter", shard="1/1", host="h",
                                        pid=1, status="running", interval_seconds=5,
                                        started_at=utcnow() - timedelta(hours=1),
                                        beat_at=utcnow() - timedelta(minutes=10), detail={}))
        db.session.commit()
        client = app.test_client()
        login(client, staff_user(["core.plugins.view"]))
        page = client.get("/plugins").get_data(as_text=True)
    assert ">stale<" in page
