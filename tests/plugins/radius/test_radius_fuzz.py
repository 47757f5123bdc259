"""The packet guard and the handler under hostile input: Hypothesis generates datagrams (random
bytes, and valid packets with lengths and vendor attributes corrupted) and every one must be
answered or dropped within a per-input time limit — never a crash, never a hang."""
from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backhaul.plugins.radius import wire
from backhaul.plugins.radius.directory import NasEntry
from backhaul.plugins.radius.handler import Handler

SECRET = b"fuzz-secret-123"


class _Directory:
    """Every source is a known NAS; no subscriber exists (no database needed)."""

    nases = {}
    hits = misses = 0

    def nas(self, address):
        return NasEntry(1, "fuzz-nas", address, SECRET, True, "mikrotik", 3799)

    def subscriber(self, username):
        return None


def _handler() -> Handler:
    return Handler(_Directory(), {"max_pps_per_source": 10**9})


def _packet(code: int, attributes: bytes) -> bytes:
    return struct.pack("!BBH", code, 7, 20 + len(attributes)) + bytes(16) + attributes


def test_a_zero_length_vendor_sub_attribute_is_refused_before_decoding():
    # pyrad's decoder loops forever on this 37-byte packet (its issue #234)
    vsa = bytes([26, 17]) + (14988).to_bytes(4, "big") + bytes([8, 0]) + bytes(9)
    packet = _packet(1, vsa)
    assert len(packet) == 37
    try:
        wire.check(packet, vendors_decoded=frozenset({14988}))
    except wire.Malformed as exc:
        assert "bad length 0" in str(exc)
    else:
        raise AssertionError("the guard let a zero-length sub-attribute through")
    assert _handler().handle(packet, ("127.0.0.1", 1000)) is None


@settings(max_examples=400, deadline=250, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_datagrams_never_crash_or_hang(data):
    _handler().handle(data, ("127.0.0.1", 1000))


@st.composite
def corrupted_packets(draw):
    attrs = b""
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from([1, 2, 3, 4, 8, 26, 31, 44, 80, 200]))
        if kind == 26:
            vendor = draw(st.sampled_from([14988, 4874, 9, 0]))
            sub = draw(st.binary(max_size=20))
            sub_len = draw(st.integers(0, 30))
            value = vendor.to_bytes(4, "big") + bytes([draw(st.integers(0, 255)), sub_len]) + sub
        else:
            value = draw(st.binary(max_size=40))
        length = draw(st.one_of(st.just(len(value) + 2), st.integers(0, 255)))
        attrs += bytes([kind, length]) + value
    code = draw(st.sampled_from([1, 4, 2, 40, 255]))
    packet = _packet(code, attrs)
    if draw(st.booleans()):  # lie about the total length too
        declared = draw(st.integers(0, 5000))
        packet = packet[:2] + struct.pack("!H", declared) + packet[4:]
    return packet


@settings(max_examples=600, deadline=250, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_packets())
def test_structurally_corrupted_packets_are_dropped_in_bounded_time(packet):
    handler = _handler()
    assert handler.handle(packet, ("127.0.0.1", 1000)) is None or packet[0] in (1, 4)
