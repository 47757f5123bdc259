"""SNMP v2c on the wire, for the poll loop's hot path: the BER of GET/GETBULK requests and
their responses (RFC 3416), and one asyncio UDP socket matching answers to requests by
request id.

Why not pysnmp's hlapi here: it configures its local datastore per call (per community
a MIB write pass) and resolves every OID through its MIB layer, about 20-40 ms of CPU per
GET; a poll of thousands of devices needs well under 1 ms. SNMPv3 (USM: keys, engine
discovery, time windows) still goes through pysnmp (``snmp_icmp.snmp_get_v3``).

The decoder takes hostile bytes: every length is checked against what is left, nesting is
bounded, and anything malformed raises ``ValueError`` (the packet is dropped, the request
times out with its reason recorded).
"""
from __future__ import annotations

import asyncio
import random
import socket

GET, GETNEXT, RESPONSE, GETBULK = 0xA0, 0xA1, 0xA2, 0xA5
INTEGER, OCTETS, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
IPADDRESS, COUNTER32, GAUGE32, TIMETICKS, OPAQUE, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x44, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
UNSIGNED = {COUNTER32: 32, GAUGE32: 0, TIMETICKS: 0, COUNTER64: 64}
EXCEPTIONS = {NO_SUCH_OBJECT: "noSuchObject", NO_SUCH_INSTANCE: "noSuchInstance",
              END_OF_MIB_VIEW: "endOfMibView"}
ERRORS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr",
          6: "noAccess", 16: "authorizationError"}
TIMEOUT = "No SNMP response received before timeout"


# ------------------------------------------------------------------------------ encoding
def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _int(n: int) -> bytes:
    return _tlv(INTEGER, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: str) -> bytes:
    arcs = [int(p) for p in oid.strip(".").split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not an OID: {oid}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(OID, bytes(out))


def encode_request(request_id: int, community: str, oids: list[str], pdu: int = GET,
                   non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
    """A v2c GET (``pdu=GET``), GETNEXT or GETBULK message."""
    binds = b"".join(_tlv(SEQUENCE, encode_oid(o) + b"\x05\x00") for o in oids)
    second, third = (non_repeaters, max_repetitions) if pdu == GETBULK else (0, 0)
    body = _int(request_id) + _int(second) + _int(third) + _tlv(SEQUENCE, binds)
    return _tlv(SEQUENCE, _int(1) + _tlv(OCTETS, community.encode()) + _tlv(pdu, body))


# ------------------------------------------------------------------------------ decoding
def _read(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the TLV at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        size = first & 0x7F
        if not 1 <= size <= 4 or pos + size > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        length = first
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + length


def decode_oid(body: bytes) -> str:
    if not body or len(body) > 512 or body[-1] & 0x80:
        raise ValueError("bad OID")
    arcs, arc = [], 0
    for byte in body:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(map(str, head + arcs[1:]))


def _value(tag: int, body: bytes):
    """(value, bits) of a varbind value: bits 32/64 for counters, else 0; ``None`` for an
    exception (noSuchObject...) or NULL."""
    if tag == INTEGER:
        return int.from_bytes(body, "big", signed=True), 0
    if tag in UNSIGNED:
        if len(body) > 9:
            raise ValueError("integer too long")
        return int.from_bytes(body, "big"), UNSIGNED[tag]
    if tag == OCTETS or tag == OPAQUE:
        text = body.decode("utf-8", "replace")
        return (text if text.isprintable() else "0x" + body.hex())[:255], 0
    if tag == IPADDRESS:
        return ".".join(map(str, body)), 0
    if tag == OID:
        return decode_oid(body), 0
    if tag in (NULL, *EXCEPTIONS):
        return None
    raise ValueError(f"unknown value tag 0x{tag:02x}")


def decode_response(data: bytes) -> tuple[int, int, int, list[tuple[str, int, object]]]:
    """(request id, error status, error index, [(oid, value tag, (value, bits) or None)])."""
    tag, pos, end = _read(data, 0)
    if tag != SEQUENCE:
        raise ValueError("not an SNMP message")
    tag, start, stop = _read(data, pos)
    if tag != INTEGER or data[start:stop] not in (b"\x01", b"\x00"):
        raise ValueError("not SNMP v1/v2c")
    tag, start, pos = _read(data, stop)  # community
    tag, pos, end = _read(data, pos)
    if tag != RESPONSE:
        raise ValueError("not a response PDU")
    numbers = []
    for _ in range(3):
        tag, start, pos = _read(data, pos)
        if tag != INTEGER or not 1 <= pos - start <= 5:
            raise ValueError("bad header integer")
        numbers.append(int.from_bytes(data[start:pos], "big", signed=True))
    tag, pos, end = _read(data, pos)
    if tag != SEQUENCE:
        raise ValueError("bad varbind list")
    binds = []
    while pos < end:
        tag, start, pos = _read(data, pos)
        if tag != SEQUENCE:
            raise ValueError("bad varbind")
        otag, ostart, oend = _read(data, start)
        vtag, vstart, vend = _read(data, oend)
        if otag != OID or vend != pos:
            raise ValueError("bad varbind")
        binds.append((decode_oid(data[ostart:oend]), vtag, _value(vtag, data[vstart:vend])))
    return numbers[0], numbers[1], numbers[2], binds


# ------------------------------------------------------------------------------ transport
class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: V2cClient):
        self.client = client

    def datagram_received(self, data: bytes, addr) -> None:
        self.client._received(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable and such
        pass


class V2cClient:
    """One UDP socket for every agent; answers matched by request id and source address.
    Create and use it inside one event loop."""

    def __init__(self):
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[tuple[str, int], asyncio.Future]] = {}
        self.next_id = random.randrange(1, 2**30)
        self.garbled = 0

    async def _open(self) -> None:
        if self.transport is None:
            loop = asyncio.get_running_loop()
            self.transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=("0.0.0.0", 0), family=socket.AF_INET)

    def _received(self, data: bytes, addr) -> None:
        try:
            answer = decode_response(data)
        except (ValueError, IndexError):
            self.garbled += 1
            return
        waiting = self.pending.get(answer[0])
        if waiting and waiting[0] == tuple(addr[:2]) and not waiting[1].done():
            waiting[1].set_result(answer)

    def _id(self) -> int:
        self.next_id = self.next_id % (2**31 - 2) + 1
        return self.next_id

    async def request(self, host: str, port: int, community: str, oids: list[str],
                      pdu: int = GET, timeout: float = 1.0, retries: int = 1,
                      max_repetitions: int = 0):
        """Send and wait; raises ``TimeoutError`` after ``retries`` resends."""
        await self._open()
        address = (await _resolve(host), port)
        for _attempt in range(retries + 1):
            request_id = self._id()
            future = asyncio.get_running_loop().create_future()
            self.pending[request_id] = (address, future)
            try:
                self.transport.sendto(encode_request(request_id, community, oids, pdu, 0,
                                                     max_repetitions), address)
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                continue
            finally:
                self.pending.pop(request_id, None)
        raise TimeoutError(TIMEOUT)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


async def _resolve(host: str) -> str:
    try:
        socket.inet_aton(host)
        return host
    except OSError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                             family=socket.AF_INET)
        return infos[0][4][0]


_CLIENTS: dict[int, V2cClient] = {}


def client() -> V2cClient:
    """This event loop's client (a socket bound to a loop cannot serve another)."""
    loop = asyncio.get_running_loop()
    found = _CLIENTS.get(id(loop))
    if found is None or getattr(found, "_loop", None) is not loop:
        for old in _CLIENTS.values():
            try:
                old.close()
            except RuntimeError:  # its loop is closed already
                pass
        _CLIENTS.clear()
        found = _CLIENTS[id(loop)] = V2cClient()
        found._loop = loop
    return found
