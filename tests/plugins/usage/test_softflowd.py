"""Debian's softflowd replays pcaps made here with scapy to ``backhaul serve usage.collector``
(a real process) as NetFlow v5, v9 and IPFIX: the bytes of each service match the bytes in
the pcap exactly, split by who held the address when (the address history changes hands in
the middle), and traffic of unknown addresses is counted apart. IPFIX templates survive a
collector restart."""
from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from usage_helpers import CollectorProcess, make_subscriber

from backhaul.plugins.network.models import Assignment
from backhaul.plugins.usage.models import Daily, ExporterClock, Template, Unattributed
from backhaul.sdk import db
from backhaul.sdk.testing import free_port
from backhaul.sdk.testing.pytest_plugin import peer_missing

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOME_A = "100.64.20.7"        # tenant A until an hour ago, tenant B since
UNKNOWN = "100.64.99.9"       # nobody's
REMOTE = "203.0.113.5"


def _pcap(path, now):
    """Conversations (TCP and UDP, both directions, different sizes) in two periods and
    one with an unknown address; returns the bytes per (period, direction) counted
    independently of the code under test: the IP total length of every packet."""
    from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap

    packets, expected = [], Counter()
    conversations = [("a", HOME_A, 40001, now - timedelta(hours=2), TCP),
                     ("a", HOME_A, 40002, now - timedelta(hours=2, minutes=-3), UDP),
                     ("b", HOME_A, 40003, now - timedelta(minutes=30), TCP),
                     ("unknown", UNKNOWN, 40004, now - timedelta(hours=2), TCP)]
    for period, local, port, start, proto in conversations:
        for i in range(12):
            down = Ether() / IP(src=REMOTE, dst=local) / proto(sport=443, dport=port) \
                / Raw(b"d" * (200 + 37 * i + port % 7))
            up = Ether() / IP(src=local, dst=REMOTE) / proto(sport=port, dport=443) \
                / Raw(b"u" * (40 + 3 * i))
            down.time = start.timestamp() + i
            up.time = start.timestamp() + i + 0.25
            packets += [down, up]
            expected[(period, "down")] += len(down[IP])
            expected[(period, "up")] += len(up[IP])
    packets.sort(key=lambda p: p.time)
    wrpcap(str(path), packets)
    return expected


def _hand_over(sub_a, sub_b, now):
    """A held HOME_A from three hours ago until an hour ago; B holds it since."""
    row = db.session.scalar(sa.select(Assignment).where(
        Assignment.subscription_id == sub_a.id))
    row.valid_from, row.valid_to = now - timedelta(hours=3), now - timedelta(hours=1)
    db.session.add(Assignment(subnet_id=row.subnet_id, subscription_id=sub_b.id,
                              address=HOME_A, valid_from=now - timedelta(hours=1)))
    db.session.commit()


def _totals(sub_id):
    db.session.rollback()
    down, up = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(Daily.bytes_down), 0),
        sa.func.coalesce(sa.func.sum(Daily.bytes_up), 0)).where(
        Daily.subscription_id == sub_id, Daily.source == "netflow")).one()
    return int(down), int(up)


def _unknown():
    db.session.rollback()
    got = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(Unattributed.bytes), 0),
                                       sa.func.coalesce(sa.func.sum(Unattributed.flows), 0))
                             ).one()
    return int(got[0]), int(got[1])


def _wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _softflowd(pcap, port, version):
    done = subprocess.run(["softflowd", "-a", "-r", str(pcap), "-n", f"127.0.0.1:{port}",
                           "-v", str(version)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.fixture
def tenants(app):
    if shutil.which("softflowd") is None:
        peer_missing("softflowd")
    _, sub_a, _ = make_subscriber(app, "Tenant A", address=HOME_A)
    _, sub_b, _ = make_subscriber(app, "Tenant B", address=None)
    now = datetime.now(UTC).replace(microsecond=0)
    _hand_over(sub_a, sub_b, now)
    return sub_a, sub_b, now


@pytest.mark.parametrize("version", [5, 9, 10])
def test_softflowd_replay_is_attributed_by_address_history(app, tmp_path, tenants, version):
    sub_a, sub_b, now = tenants
    expected = _pcap(tmp_path / "replay.pcap", now)
    port = free_port()
    with CollectorProcess(app, port) as collector:
        _softflowd(tmp_path / "replay.pcap", port, version)
        want_a = (expected[("a", "down")], expected[("a", "up")])
        want_b = (expected[("b", "down")], expected[("b", "up")])
        want_unknown = expected[("unknown", "down")] + expected[("unknown", "up")]
        arrived = _wait_for(lambda: _totals(sub_a.id) == want_a
                            and _totals(sub_b.id) == want_b
                            and _unknown()[0] == want_unknown)
        assert arrived, (f"A {_totals(sub_a.id)} != {want_a}, B {_totals(sub_b.id)} != "
                         f"{want_b}, unknown {_unknown()} != {want_unknown}\n"
                         + collector.output())
    assert _unknown()[1] == 2, "the unknown conversation's two directions, counted apart"


def _ipfix_data(template_fields, template_id, export_time, src, dst, octets, sequence,
                uptime_ms=0):
    """One IPFIX data record for ``template_fields`` (zeros where we do not care)."""
    record = b""
    for ftype, flen, _ in template_fields:
        if ftype in (21, 22):  # flowEnd/StartSysUpTime
            record += uptime_ms.to_bytes(flen, "big")
        elif ftype == 8:
            record += socket.inet_aton(src)
        elif ftype == 12:
            record += socket.inet_aton(dst)
        elif ftype == 1:
            record += octets.to_bytes(flen, "big")
        elif ftype == 2:
            record += (1).to_bytes(flen, "big")
        else:
            record += bytes(flen)
    body = struct.pack("!HH", template_id, 4 + len(record)) + record
    return struct.pack("!HHIII", 10, 16 + len(body), export_time, sequence, 0) + body


def test_ipfix_templates_survive_a_collector_restart(app, tmp_path, tenants):
    sub_a, sub_b, now = tenants
    expected = _pcap(tmp_path / "replay.pcap", now)
    port = free_port()
    want_b = (expected[("b", "down")], expected[("b", "up")])
    with CollectorProcess(app, port):
        _softflowd(tmp_path / "replay.pcap", port, 10)
        assert _wait_for(lambda: _totals(sub_b.id) == want_b)
    db.session.rollback()
    rows = db.session.scalars(sa.select(Template).where(
        Template.exporter == "127.0.0.1", Template.version == 10)).all()
    flows = [r for r in rows if not r.options and any(f[0] == 8 for f in r.fields)]
    assert flows and any(r.options for r in rows), "flow and options templates persisted"
    template = flows[0]
    clock = db.session.scalar(sa.select(ExporterClock).where(
        ExporterClock.exporter == "127.0.0.1", ExporterClock.version == 10))
    assert clock is not None, "the exporter's clock (systemInitTimeMilliseconds) persisted"
    # B holds the address since an hour ago: a flow that ended 20 minutes ago is B's only
    # when its uptime is read against the persisted clock (the export time says 3 hours ago,
    # when A held it)
    ended_ms = int((now - timedelta(minutes=20)).timestamp() * 1000)
    with CollectorProcess(app, port) as collector:
        packet = _ipfix_data([tuple(f) for f in template.fields], template.template_id,
                             int((now - timedelta(hours=2, minutes=30)).timestamp()), REMOTE,
                             HOME_A, 12345, 10_000, uptime_ms=ended_ms - clock.init_ms)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.sendto(packet, ("127.0.0.1", port))
        assert _wait_for(lambda: _totals(sub_b.id) == (want_b[0] + 12345, want_b[1])), (
            f"{_totals(sub_b.id)}: the data set was not decoded after the restart\n"
            + collector.output())


def _acct(user, status, in_octets, out_octets):
    return (f'User-Name = "{user}"\nAcct-Status-Type = {status}\nAcct-Session-Id = "U-1"\n'
            f"Acct-Input-Octets = {in_octets % 2**32}\nAcct-Output-Octets = {out_octets % 2**32}\n"
            f"Acct-Input-Gigawords = {in_octets >> 32}\n"
            f"Acct-Output-Gigawords = {out_octets >> 32}\n"
            f"Framed-IP-Address = {HOME_A}\nAcct-Session-Time = 60\n")


def test_radclient_accounting_and_softflowd_flows_agree_and_one_source_counts(
        app, tmp_path, tenants):
    """The same session seen by both sources: radclient (Debian) sends Start/Interim/Stop to
    ``backhaul serve radius.server`` with the session's totals, softflowd exports its flows;
    both rollups hold the same bytes and the counted total is one of them, not the sum."""
    from radius_helpers import NAS_SECRET, RadiusProcess

    from backhaul.plugins.usage.totals import counted, set_source
    from backhaul.sdk.testing.radius import radclient

    if shutil.which("radclient") is None:
        peer_missing("radclient (freeradius-utils)")
    _, sub_b, now = tenants
    expected = _pcap(tmp_path / "replay.pcap", now)
    down, up = expected[("b", "down")], expected[("b", "up")]
    port = free_port()
    with CollectorProcess(app, port):
        _softflowd(tmp_path / "replay.pcap", port, 9)
        assert _wait_for(lambda: _totals(sub_b.id) == (down, up))
    user = f"pppoe{sub_b.id}"
    with RadiusProcess(app, free_port(), free_port()) as server:
        target = f"127.0.0.1:{server.acct_port}"
        for status, inp, out in (("Start", 0, 0), ("Interim-Update", up // 2, down // 3),
                                 ("Stop", up, down)):
            code, text = radclient(target, "acct", NAS_SECRET, _acct(user, status, inp, out))
            assert code == 0 and "Accounting-Response" in text, text
    db.session.rollback()
    radius = db.session.execute(sa.select(sa.func.sum(Daily.bytes_down),
                                          sa.func.sum(Daily.bytes_up)).where(
        Daily.subscription_id == sub_b.id, Daily.source == "radius")).one()
    assert (int(radius[0]), int(radius[1])) == (down, up) == _totals(sub_b.id)
    span = (now.date() - timedelta(days=1), now.date() + timedelta(days=1))
    assert counted([sub_b.id], *span) == {sub_b.id: (down, up)}, "radius counts, once"
    set_source(sub_b.id, "netflow")
    db.session.commit()
    assert counted([sub_b.id], *span) == {sub_b.id: (down, up)}, "netflow counts, once"
