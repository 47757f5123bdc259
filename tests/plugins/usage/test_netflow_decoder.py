"""The NetFlow decoder on packets built here byte by byte (an oracle independent of the
decoder) and under hostile input: Hypothesis feeds random bytes and valid packets with
lengths, counts and template fields corrupted; each input is decoded or refused as
``Malformed`` within a per-input time limit — never another exception, never a hang."""
from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backhaul.plugins.usage.netflow import Malformed, Sequence, Templates, decode

EXPORT = 1_796_000_000
FIELDS = [(8, 4), (12, 4), (1, 4), (2, 4), (21, 4)]  # src, dst, octets, packets, last uptime


def v5(flows, sequence=0, uptime=100_000):
    head = struct.pack("!HHIIIIBBH", 5, len(flows), uptime, EXPORT, 0, sequence, 0, 0, 0)
    body = b"".join(socket.inet_aton(s) + socket.inet_aton(d) + bytes(8)
                    + struct.pack("!IIII", 1, octets, uptime - 5000, uptime - 1000) + bytes(16)
                    for s, d, octets in flows)
    return head + body


def _template_set(set_id, template_id, fields, enterprise=False):
    specs = b""
    for ftype, flen in fields:
        if enterprise and ftype == 999:
            specs += struct.pack("!HHI", 0x8000 | ftype, flen, 29305)
        else:
            specs += struct.pack("!HH", ftype, flen)
    body = struct.pack("!HH", template_id, len(fields)) + specs
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def _records(flows, uptime=100_000):
    return b"".join(socket.inet_aton(s) + socket.inet_aton(d)
                    + struct.pack("!III", octets % 2**32, 3, uptime - 1000) for s, d, octets in flows)


def v9(flows, sequence=0, with_template=True, uptime=100_000, extra_sets=b""):
    sets = _template_set(0, 300, FIELDS) if with_template else b""
    data = _records(flows, uptime)
    sets += extra_sets + struct.pack("!HH", 300, 4 + len(data)) + data
    return struct.pack("!HHIIII", 9, len(flows), uptime, EXPORT, sequence, 7) + sets


def ipfix(flows, sequence=0, with_template=True, extra_sets=b""):
    fields = [(8, 4), (12, 4), (1, 8), (2, 4), (153, 8)]
    sets = _template_set(2, 400, fields) if with_template else b""
    data = b"".join(socket.inet_aton(s) + socket.inet_aton(d)
                    + struct.pack("!QIQ", octets, 3, (EXPORT - 2) * 1000)
                    for s, d, octets in flows)
    sets += extra_sets + struct.pack("!HH", 400, 4 + len(data)) + data
    return struct.pack("!HHIII", 10, 16 + len(sets), EXPORT, sequence, 9) + sets


FLOWS = [("100.64.20.7", "203.0.113.5", 1500), ("203.0.113.5", "100.64.20.7", 2**33 + 5)]


def test_v5_flows_and_times():
    decoded = decode(v5([(s, d, o % 2**32) for s, d, o in FLOWS]), Templates())
    assert [(f.src, f.dst, f.bytes) for f in decoded.flows] == [
        (s, d, o % 2**32) for s, d, o in FLOWS]
    assert decoded.flows[0].at.timestamp() == EXPORT - 1.0  # uptime - last = 1 s before export


def test_v9_template_then_data_and_data_before_template():
    templates = Templates()
    early = decode(v9(FLOWS[:1], with_template=False), templates)
    assert early.flows == [] and early.missing_template == 1
    decoded = decode(v9(FLOWS[:1], sequence=1), templates)
    assert [(f.src, f.bytes) for f in decoded.flows] == [("100.64.20.7", 1500)]
    assert decoded.templates and decoded.domain == 7
    later = decode(v9(FLOWS[:1], sequence=2, with_template=False), templates)
    assert len(later.flows) == 1 and not later.templates, "a known template is not relearned"


def test_ipfix_64_bit_counters_enterprise_fields_and_options_records_ignored():
    templates = Templates()
    options = struct.pack("!HHH", 500, 2, 1) + struct.pack("!HHHH", 144, 4, 160, 8)
    options_set = struct.pack("!HH", 3, 4 + len(options)) + options
    options_data = struct.pack("!IQ", 1, (EXPORT - 100) * 1000)
    extra = options_set + struct.pack("!HH", 500, 4 + len(options_data)) + options_data
    decoded = decode(ipfix(FLOWS, extra_sets=extra), templates)
    assert [(f.dst, f.bytes) for f in decoded.flows] == [(d, o) for _, d, o in FLOWS]
    assert decoded.options_records == 1 and len(decoded.flows) == 2
    assert decoded.flows[0].at.timestamp() == EXPORT - 2
    assert decoded.advance == 3, "IPFIX sequence counts data records"
    # an enterprise field and a variable-length field are skipped over correctly
    fields = [(8, 4), (999, 65535), (12, 4), (1, 4)]
    tset = _template_set(2, 401, fields, enterprise=True)
    record = socket.inet_aton("10.0.0.1") + bytes([3]) + b"abc" + socket.inet_aton(
        "10.0.0.2") + struct.pack("!I", 77)
    dset = struct.pack("!HH", 401, 4 + len(record)) + record
    packet = struct.pack("!HHIII", 10, 16 + len(tset) + len(dset), EXPORT, 0, 9) + tset + dset
    [flow] = decode(packet, templates).flows
    assert (flow.src, flow.dst, flow.bytes) == ("10.0.0.1", "10.0.0.2", 77)


def test_sequence_gaps_count_as_loss_reordering_does_not():
    seq = Sequence()
    assert seq.check("x", 100, 1) == 0
    assert seq.check("x", 101, 1) == 0
    assert seq.check("x", 105, 1) == 3  # 102, 103 and 104 never came
    assert seq.check("x", 103, 1) == 0, "late packet: reordering, not loss"
    assert seq.check("x", 106, 1) == 0, "the late one did not move the expectation back"
    assert seq.check("z", 1_000_000, 1) == 0
    assert seq.check("z", 0, 1) == 0, "far behind: the exporter restarted"
    assert seq.check("z", 2, 1) == 1
    assert seq.check("y", 2**32 - 1, 2) == 0 and seq.check("y", 1, 1) == 0, "wraps at 2^32"


@pytest.mark.parametrize("packet", [b"", b"\x00\x05", v5(FLOWS[:1])[:-1], b"\x00\x07" + bytes(40),
                                    struct.pack("!HHIIII", 9, 1, 0, 0, 0, 0) + b"\x01\x2c\x00\x02",
                                    v9(FLOWS)[:-3],
                                    struct.pack("!HHIII", 10, 9999, 0, 0, 0)])
def test_malformed_packets_raise_malformed(packet):
    with pytest.raises(Malformed):
        decode(packet, Templates())


def test_a_template_that_redefines_itself_replaces_the_old_one():
    templates = Templates()
    decode(v9(FLOWS[:1]), templates)
    shorter = _template_set(0, 300, [(8, 4), (12, 4), (1, 4)])
    record = socket.inet_aton("1.2.3.4") + socket.inet_aton("5.6.7.8") + struct.pack("!I", 9)
    data = struct.pack("!HH", 300, 4 + len(record)) + record
    packet = struct.pack("!HHIIII", 9, 2, 100_000, EXPORT, 1, 7) + shorter + data
    decoded = decode(packet, templates)
    assert decoded.templates and [(f.src, f.bytes) for f in decoded.flows] == [("1.2.3.4", 9)]


LIMITS = dict(deadline=200, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _decode_or_refuse(data: bytes, templates: Templates) -> None:
    try:
        decoded = decode(data, templates)
    except Malformed:
        return
    assert decoded.version in (5, 9, 10)
    assert len(decoded.flows) <= len(data) // 4 + 1


@settings(max_examples=600, **LIMITS)
@given(st.binary(max_size=1500))
def test_random_datagrams_are_decoded_or_refused(data):
    _decode_or_refuse(data, Templates())


@settings(max_examples=300, **LIMITS)
@given(version=st.sampled_from([5, 9, 10]), data=st.binary(max_size=1400))
def test_random_bodies_behind_a_valid_header(version, data):
    header = {5: struct.pack("!HHIIIIBBH", 5, 1, 0, 0, 0, 0, 0, 0, 0),
              9: struct.pack("!HHIIII", 9, 1, 0, 0, 0, 0),
              10: struct.pack("!HHIII", 10, 16 + len(data), 0, 0, 0)}[version]
    templates = Templates()
    _decode_or_refuse(v9(FLOWS), templates)  # a known template makes data sets parse
    _decode_or_refuse(ipfix(FLOWS), templates)
    _decode_or_refuse(header + data, templates)


@st.composite
def corrupted(draw):
    packet = bytearray(draw(st.sampled_from([v5(FLOWS[:1]), v9(FLOWS), ipfix(FLOWS)])))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(packet) - 1))
        packet[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(packet)))
    return bytes(packet[:cut]) if draw(st.booleans()) else bytes(packet)


@settings(max_examples=600, **LIMITS)
@given(corrupted())
def test_corrupted_valid_packets_are_decoded_or_refused(packet):
    templates = Templates()
    _decode_or_refuse(packet, templates)
    _decode_or_refuse(packet, templates)  # and again, with whatever it taught the templates
    assert len(templates.by_key) <= 1024
