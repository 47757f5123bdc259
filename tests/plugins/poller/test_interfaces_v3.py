"""Against Debian's snmpd: the interface table walked into per-interface bit/s (64-bit HC
counters), and SNMPv3 authPriv (SHA-512, AES-256) with right and wrong credentials."""
from __future__ import annotations

import socket
import time

import sqlalchemy as sa
from poller_helpers import make_device, poll_once

from backhaul.plugins.poller import service
from backhaul.plugins.poller.models import Sample, TargetState, Template
from backhaul.sdk import db

SENT = 3_000_000
#: net-snmp answers interface counters from a cache it refreshes after 3 s
CACHE = 3.5


def _blast_loopback(nbytes: int) -> None:
    """Send ``nbytes`` of UDP payload through lo (to a socket that reads them)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sink.setblocking(False)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    chunk = b"x" * 60_000
    for _ in range(nbytes // len(chunk) + 1):
        out.sendto(chunk, sink.getsockname())
        try:
            while sink.recv(65535):
                pass
        except BlockingIOError:
            pass
    out.close()
    sink.close()


def test_interface_table_rates(app, snmpd):
    device = make_device()
    tpl = service.save_template({"name": "ifaces", "icmp_enabled": False,
                                 "snmp_enabled": True, "snmp_port": snmpd.port,
                                 "snmp_interfaces": True, "oids": []})
    service.apply_template(tpl.id, "device", str(device.id))
    db.session.commit()
    key = f"device:{device.id}"
    poll_once()
    first = db.session.get(TargetState, key)
    assert first.state == "up", first.reason
    assert {"if.lo.in", "if.lo.out"} <= set(first.counters)
    t0, c0 = first.counters["if.lo.in"][1], first.counters["if.lo.in"][0]
    time.sleep(CACHE)
    _blast_loopback(SENT)
    time.sleep(CACHE)
    poll_once()
    state = db.session.get(TargetState, key)
    seconds = state.counters["if.lo.in"][1] - t0
    [rate] = db.session.scalars(sa.select(Sample.value).where(
        Sample.target == key, Sample.metric == "if.lo.in")).all()
    # every datagram crossed lo: at least SENT payload octets, as bits per second
    assert rate * seconds >= SENT * 8
    assert abs(rate - (state.counters["if.lo.in"][0] - c0) * 8 / seconds) < 1e-6
    assert state.counters["if.lo.in"][0] > c0


def _v3_template(snmpd, **override):
    values = {"name": "v3", "icmp_enabled": False, "snmp_enabled": True,
              "snmp_port": snmpd.port, "snmp_version": "3", "v3_user": snmpd.V3_USER,
              "v3_auth": "SHA-512", "v3_auth_key": snmpd.V3_AUTH, "v3_priv": "AES-256",
              "v3_priv_key": snmpd.V3_PRIV, "oids": [
                  {"name": "descr", "oid": "1.3.6.1.2.1.1.1.0", "type": "string"},
                  {"name": "temp", "oid": "1.3.6.1.4.1.99999.1", "type": "gauge"}]}
    values.update(override)
    tpl = service.save_template(values)
    db.session.commit()
    return tpl


def test_v3_authpriv_and_wrong_credentials(app, snmpd):
    device = make_device()
    tpl = _v3_template(snmpd)
    service.apply_template(tpl.id, "device", str(device.id))
    db.session.commit()
    sealed = db.session.scalar(sa.select(Template.secrets).where(Template.id == tpl.id))
    assert snmpd.V3_AUTH not in sealed and snmpd.V3_PRIV not in sealed
    key = f"device:{device.id}"
    snmpd.set("gauge", 42)
    poll_once()
    state = db.session.get(TargetState, key)
    assert (state.state, state.reason) == ("up", "")
    texts = db.session.scalars(sa.select(Sample.text).where(Sample.metric == "descr")).all()
    assert "Linux" in texts[0]
    assert db.session.scalars(sa.select(Sample.value).where(
        Sample.metric == "temp")).all() == [42.0]
    service.save_template({"v3_auth_key": "not-the-key"}, tpl.id)
    db.session.commit()
    poll_once()
    state = db.session.get(TargetState, key)
    assert state.state == "down"
    assert "SNMPv3" in state.reason and "digest" in state.reason.lower(), state.reason
    service.save_template({"v3_auth_key": snmpd.V3_AUTH, "v3_user": "nobody"}, tpl.id)
    db.session.commit()
    poll_once()
    state = db.session.get(TargetState, key)
    assert state.state == "down" and "user" in state.reason.lower(), state.reason


def test_v3_needs_its_credentials(app):
    from backhaul.sdk.graphql import FieldErrors

    try:
        service.save_template({"name": "x", "snmp_version": "3", "v3_user": "u"})
    except FieldErrors as exc:
        assert set(exc.errors) == {"v3_auth_key", "v3_priv_key"}
    else:
        raise AssertionError("saved without keys")
    db.session.rollback()
