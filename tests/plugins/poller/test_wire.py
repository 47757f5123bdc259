"""The poller's own SNMP v2c BER against pysnmp's codec (an independent implementation) and
against hostile bytes: an agent answering garbage is recorded with a reason and does not
hold up the others."""
from __future__ import annotations

import asyncio
import random
import socket
import threading

from poller_helpers import run_async
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from backhaul.plugins.poller import snmp_wire
from backhaul.plugins.poller.snmp_icmp import snmp_get

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def test_request_decodes_with_pysnmp():
    wire = snmp_wire.encode_request(123456, "s3cret", ["1.3.6.1.2.1.1.1.0",
                                                       "1.3.6.1.4.1.2021.4294967295.200"])
    msg, rest = decoder.decode(wire, asn1Spec=P.Message())
    assert rest == b""
    assert str(P.apiMessage.get_community(msg)) == "s3cret"
    pdu = P.apiMessage.get_pdu(msg)
    assert int(P.apiPDU.get_request_id(pdu)) == 123456
    assert [str(o) for o, _v in P.apiPDU.get_varbinds(pdu)] == [
        "1.3.6.1.2.1.1.1.0", "1.3.6.1.4.1.2021.4294967295.200"]
    bulk = snmp_wire.encode_request(7, "c", ["1.3.6.1.2.1.2.2.1.10"], snmp_wire.GETBULK, 0, 25)
    msg, _ = decoder.decode(bulk, asn1Spec=P.Message())
    pdu = P.apiMessage.get_pdu(msg)
    assert int(P.apiBulkPDU.get_max_repetitions(pdu)) == 25


def _response(request_id, binds, status=0, index=0):
    pdu = P.GetResponsePDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_error_status(pdu, status)
    P.apiPDU.set_error_index(pdu, index)
    P.apiPDU.set_varbinds(pdu, binds)
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, "public")
    P.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def test_response_from_pysnmp_decodes():
    wire = _response(2**31 - 1, [
        ((1, 3, 6, 1, 2, 1, 1, 1, 0), P.OctetString("Linux radio 6.1")),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 3), P.Counter64(2**64 - 1)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 3), P.Counter32(2**32 - 1)),
        ((1, 3, 6, 1, 4, 1, 1), P.Integer(-5)),
        ((1, 3, 6, 1, 4, 1, 2), P.Gauge32(0)),
        ((1, 3, 6, 1, 4, 1, 3), P.IpAddress("192.0.2.9")),
        ((1, 3, 6, 1, 4, 1, 4), P.NoSuchInstance(""))])
    rid, status, index, binds = snmp_wire.decode_response(wire)
    assert (rid, status, index) == (2**31 - 1, 0, 0)
    assert [(o, v) for o, _t, v in binds] == [
        ("1.3.6.1.2.1.1.1.0", ("Linux radio 6.1", 0)),
        ("1.3.6.1.2.1.31.1.1.1.6.3", (2**64 - 1, 64)),
        ("1.3.6.1.2.1.2.2.1.10.3", (2**32 - 1, 32)),
        ("1.3.6.1.4.1.1", (-5, 0)),
        ("1.3.6.1.4.1.2", (0, 0)),
        ("1.3.6.1.4.1.3", ("192.0.2.9", 0)),
        ("1.3.6.1.4.1.4", None)]


def test_garbage_never_decodes_to_something_else():
    good = _response(5, [((1, 3, 6, 1, 2, 1, 1, 3, 0), P.TimeTicks(42))])
    rng = random.Random(17)
    for size in range(len(good)):
        for wire in (good[:size], bytes(rng.randrange(256) for _ in range(size))):
            try:
                snmp_wire.decode_response(wire)
            except ValueError:
                continue
            raise AssertionError(f"decoded {wire!r}")
    for _ in range(2000):  # flipped bytes: decodes or raises ValueError, nothing else
        wire = bytearray(good)
        wire[rng.randrange(len(wire))] = rng.randrange(256)
        try:
            snmp_wire.decode_response(bytes(wire))
        except ValueError:
            pass


class Garbage(threading.Thread):
    """A UDP peer that answers every datagram with junk."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port, self.stop = self.sock.getsockname()[1], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                _data, addr = self.sock.recvfrom(65535)
            except OSError:
                continue
            self.sock.sendto(b"\x30\x82\xff\xff junk", addr)


def test_garbage_agent_recorded_and_others_answer(snmpd):
    junk = Garbage()
    junk.start()
    try:
        async def both():
            return await asyncio.gather(
                snmp_get("127.0.0.1", junk.port, "public", {"x": "1.3.6.1.2.1.1.1.0"}, 0.3),
                snmp_get("127.0.0.1", snmpd.port, "public", {"d": "1.3.6.1.2.1.1.1.0"}, 2.0))

        bad, good = run_async(both())
    finally:
        junk.stop.set()
    assert bad.values == {} and bad.error == snmp_wire.TIMEOUT
    assert "Linux" in good.values["d"][0] and good.error == ""
