"""Against Debian's net-snmp agent: counters become rates, a threshold crossing changes the
state and sends one alert e-mail (hysteresis holds it), and clearing sends one more."""
from __future__ import annotations

import sqlalchemy as sa
from poller_helpers import EVENTS, ONCALL, make_device, poll_once

from backhaul.plugins.poller import service
from backhaul.plugins.poller.models import Sample, TargetState
from backhaul.sdk import db

BASE = "1.3.6.1.4.1.99999"


def _template(port):
    tpl = service.save_template({
        "name": "radio", "icmp_enabled": False, "snmp_enabled": True, "snmp_port": port,
        "snmp_timeout": 1.0, "oids": [
            {"name": "temp", "oid": f"{BASE}.1", "type": "gauge", "unit": "C",
             "warning": 60, "critical": 80, "hysteresis": 5},
            {"name": "rx", "oid": f"{BASE}.2", "type": "counter", "unit": "B/s"},
            {"name": "rx64", "oid": f"{BASE}.3", "type": "counter", "unit": "B/s"},
            {"name": "lo_in", "oid": "1.3.6.1.2.1.2.2.1.10.1", "type": "counter"},
            {"name": "descr", "oid": "1.3.6.1.2.1.1.1.0", "type": "string"}]})
    service.apply_template(tpl.id, "role", "radio")
    db.session.commit()
    return tpl


def _values(key, metric):
    return [s.value for s in db.session.scalars(sa.select(Sample).where(
        Sample.target == key, Sample.metric == metric).order_by(Sample.id))]


def test_counters_become_rates_and_wrap(app, snmpd):
    device = make_device()
    _template(snmpd.port)
    key = f"device:{device.id}"
    snmpd.set("counter", 4_294_966_296)  # 1000 below 2**32
    snmpd.set("counter64", 10_000)
    poll_once()
    first = db.session.get(TargetState, key)
    assert first.state == "up", first.reason
    t0 = first.counters["rx"][1]
    snmpd.set("counter", 4_000)  # wrapped: 5000 octets later
    snmpd.set("counter64", 2**33 + 10_000)  # a 64-bit counter past 2**32: no wrap
    poll_once()
    state = db.session.get(TargetState, key)
    seconds = state.counters["rx"][1] - t0
    [rx] = _values(key, "rx")
    [rx64] = _values(key, "rx64")
    assert abs(rx - 5000 / seconds) < 1e-6
    assert abs(rx64 - 2**33 / seconds) < 1e-3
    assert len(_values(key, "lo_in")) == 1  # a real interface counter of lo, as a rate
    descr = db.session.scalars(sa.select(Sample.text).where(Sample.metric == "descr")).all()
    assert descr and "Linux" in descr[0]


def test_threshold_alerts_once_with_hysteresis(app, snmpd, relay, email_channel):
    device = make_device()
    _template(snmpd.port)
    key = f"device:{device.id}"
    poll_once()
    assert db.session.get(TargetState, key).state == "up"
    for temperature in (65, 62, 57, 61):  # over 60, then hovering: held by hysteresis 5
        snmpd.set("gauge", temperature)
        poll_once()
        assert db.session.get(TargetState, key).state == "warning", temperature
    mails = relay.wait_for(1)
    assert len(mails) == 1
    message = mails[0].message
    assert mails[0].rcpt_tos == [ONCALL]
    assert "[WARNING] radio-1" in message["Subject"]
    assert "warning: temp" in message.get_body().get_content()
    snmpd.set("gauge", 50)  # below 60 - 5: cleared
    poll_once()
    assert db.session.get(TargetState, key).state == "up"
    mails = relay.wait_for(2)
    assert len(mails) == 2 and "[UP] radio-1" in mails[1].message["Subject"]
    assert [(e["old"], e["new"]) for e in EVENTS] == [
        ("unknown", "up"), ("up", "warning"), ("warning", "up")]


def test_unreachable_agent_is_down_with_reason(app, snmpd):
    device = make_device()
    tpl = _template(snmpd.port)
    service.save_template({"snmp_community": "wrong", "snmp_timeout": 0.3}, tpl.id)
    db.session.commit()
    poll_once()
    state = db.session.get(TargetState, f"device:{device.id}")
    assert state.state == "down"
    assert state.reason
