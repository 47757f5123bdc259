"""NetFlow v5, v9 and IPFIX (v10) decoding: bytes in, flows out. Pure; no database.

Written here rather than taken from PyPI's ``netflow`` package because the collector needs
what that package keeps private: templates it can persist and reload per exporter and
source id (they must survive a restart), and a decoder whose work is bounded by the
datagram's length whatever the bytes say. Every loop advances by at least four bytes or
stops; a template may not claim more than :data:`MAX_FIELDS` fields; an exporter may keep
at most :data:`MAX_TEMPLATES` templates. A malformed packet raises :class:`Malformed`
(counted by the collector), never loops or allocates by a length it read.

Options templates (v9 flowset 1, IPFIX set 3) are remembered only to be skipped: their
records describe the exporter, not traffic. A data set before its template is counted
(``missing_template``) and dropped.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

MAX_FIELDS = 128
MAX_TEMPLATES = 1024
VARIABLE = 65535

# information elements (IANA IPFIX numbering; NetFlow v9 shares 1..127)
OCTETS, PACKETS, SRC4, DST4, SRC6, DST6 = 1, 2, 8, 12, 27, 28
LAST_UPTIME, FIRST_UPTIME = 21, 22
END_SECONDS, END_MILLIS = 151, 153
SYSTEM_INIT_MILLIS = 160  # IPFIX options: when the exporter's uptime clock started
OUT_OCTETS = 23  # v9 OUT_BYTES: a second counter of the same flow (egress)


class Malformed(ValueError):
    """The datagram is not a well-formed NetFlow v5/v9/IPFIX packet."""


class Flow(NamedTuple):
    """One flow. A named tuple (built in C, several hundred thousand a second) whose end
    time is kept as epoch seconds; :attr:`at` gives it as a datetime."""

    src: str
    dst: str
    bytes: int
    packets: int
    #: when the flow ended, epoch seconds (its bytes belong to the address holders then)
    ts: float

    @property
    def at(self) -> datetime:
        return _epoch(self.ts)


@dataclass
class Decoded:
    version: int
    domain: int
    sequence: int
    #: how many units the sequence number advances by for this packet
    advance: int
    flows: list[Flow] = field(default_factory=list)
    #: templates learned in this packet: ``(template_id, fields, is_options)``
    templates: list[tuple[int, tuple, bool]] = field(default_factory=list)
    missing_template: int = 0
    options_records: int = 0


TemplateKey = tuple[int, int, int]  # (version, domain, template id)


class Templates:
    """The templates one exporter defined, keyed by version, source id/domain and id."""

    def __init__(self):
        self.by_key: dict[TemplateKey, tuple[tuple, bool]] = {}
        #: ``{(version, domain): epoch ms}`` from options records (systemInitTimeMilliseconds)
        self.system_init: dict[tuple[int, int], int] = {}

    def put(self, key: TemplateKey, fields: tuple, options: bool = False) -> bool:
        """Remember a template; returns whether it is new or changed (to persist it)."""
        if key not in self.by_key and len(self.by_key) >= MAX_TEMPLATES:
            raise Malformed("too many templates for one exporter")
        changed = self.by_key.get(key) != (fields, options)
        self.by_key[key] = (fields, options)
        return changed

    def get(self, key: TemplateKey):
        return self.by_key.get(key)


def _epoch(seconds: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def decode(data: bytes, templates: Templates) -> Decoded:
    """Decode one datagram (``templates`` is the exporter's, updated in place)."""
    if len(data) < 4:
        raise Malformed("shorter than a header")
    version = struct.unpack_from("!H", data)[0]
    if version == 5:
        return _v5(data)
    if version == 9:
        return _v9(data, templates)
    if version == 10:
        return _ipfix(data, templates)
    raise Malformed(f"version {version} is not 5, 9 or 10")


V5_HEADER = struct.Struct("!HHIIIIBBH")
#: a v5 record: src, dst (skipping nexthop and interfaces), packets, octets, first, last
V5_RECORD = struct.Struct("!4s4s8xIIII16x")


def _v5(data: bytes) -> Decoded:
    if len(data) < 24:
        raise Malformed("v5 header truncated")
    _, count, uptime, secs, nsecs, sequence, _etype, _eid, _sampling = \
        V5_HEADER.unpack_from(data)
    if count > 30 or len(data) < 24 + 48 * count:
        raise Malformed(f"v5 count {count} does not fit the datagram")
    now = secs + nsecs / 1e9
    out = Decoded(5, 0, sequence, count)
    ntoa = socket.inet_ntoa
    # one C-level pass over the records; per flow only the tuple and two address strings
    out.flows = [Flow(ntoa(src), ntoa(dst), octets, packets,
                      now - ((uptime - last) & 0xFFFFFFFF) / 1000.0)
                 for src, dst, packets, octets, _first, last
                 in V5_RECORD.iter_unpack(data[24:24 + 48 * count])]
    return out


def _sets(data: bytes, start: int):
    """``(set id, body)`` of each flowset/set after the header."""
    at = start
    while at + 4 <= len(data):
        set_id, length = struct.unpack_from("!HH", data, at)
        if length < 4 or at + length > len(data):
            raise Malformed(f"set {set_id} length {length} past the datagram")
        yield set_id, data[at + 4:at + length]
        at += length


def _v9(data: bytes, templates: Templates) -> Decoded:
    if len(data) < 20:
        raise Malformed("v9 header truncated")
    _, _count, uptime, secs, sequence, domain = struct.unpack_from("!HHIIII", data)
    out = Decoded(9, domain, sequence, 1)
    clock = (uptime, secs, None)
    for set_id, body in _sets(data, 20):
        if set_id == 0:
            _templates(body, out, templates, 9, domain, ipfix=False, options=False)
        elif set_id == 1:
            _v9_options_templates(body, out, templates, domain)
        elif set_id >= 256:
            records = _data(body, set_id, out, templates, 9, domain)
            out.flows += [f for f in (_flow(v, clock) for v in records) if f is not None]
    return out


def _ipfix(data: bytes, templates: Templates) -> Decoded:
    if len(data) < 16:
        raise Malformed("IPFIX header truncated")
    _, length, export_time, sequence, domain = struct.unpack_from("!HHIII", data)
    if length < 16 or length > len(data):
        raise Malformed(f"IPFIX length {length} does not match the datagram")
    data = data[:length]
    out = Decoded(10, domain, sequence, 0)
    records: list[dict] = []
    for set_id, body in _sets(data, 16):
        if set_id == 2:
            _templates(body, out, templates, 10, domain, ipfix=True, options=False)
        elif set_id == 3:
            _templates(body, out, templates, 10, domain, ipfix=True, options=True)
        elif set_id >= 256:
            records += _data(body, set_id, out, templates, 10, domain)
    # flowEndSysUpTime counts from the exporter's start, which an options record gives
    # (softflowd sends it with the templates); until then the export time stands in
    clock = (None, export_time, templates.system_init.get((10, domain)))
    out.flows += [f for f in (_flow(v, clock) for v in records) if f is not None]
    return out


def _field_specs(body: bytes, at: int, count: int, ipfix: bool) -> tuple[tuple, int]:
    if count > MAX_FIELDS:
        raise Malformed(f"template of {count} fields")
    specs = []
    for _ in range(count):
        if at + 4 > len(body):
            raise Malformed("template truncated")
        ftype, flen = struct.unpack_from("!HH", body, at)
        at += 4
        enterprise = 0
        if ipfix and ftype & 0x8000:
            if at + 4 > len(body):
                raise Malformed("enterprise number truncated")
            enterprise = struct.unpack_from("!I", body, at)[0]
            ftype &= 0x7FFF
            at += 4
        if flen == VARIABLE and not ipfix:
            raise Malformed("variable-length field in a v9 template")
        specs.append((ftype, flen, enterprise))
    return tuple(specs), at


def _templates(body, out, templates, version, domain, *, ipfix, options):
    at = 0
    while at + 4 <= len(body):
        template_id, count = struct.unpack_from("!HH", body, at)
        at += 4
        scope = 0
        if options:
            if at + 2 > len(body):
                raise Malformed("options template truncated")
            scope = struct.unpack_from("!H", body, at)[0]
            at += 2
        if template_id < 256:
            raise Malformed(f"template id {template_id} below 256")
        if count == 0:  # IPFIX template withdrawal
            templates.by_key.pop((version, domain, template_id), None)
            continue
        if scope > count:
            raise Malformed("more scope fields than fields")
        specs, at = _field_specs(body, at, count, ipfix)
        if templates.put((version, domain, template_id), specs, options):
            out.templates.append((template_id, specs, options))


def _v9_options_templates(body, out, templates, domain):
    at = 0
    while at + 6 <= len(body):
        template_id, scope_len, option_len = struct.unpack_from("!HHH", body, at)
        at += 6
        if template_id < 256 or scope_len % 4 or option_len % 4:
            raise Malformed("v9 options template malformed")
        specs, at = _field_specs(body, at, (scope_len + option_len) // 4, ipfix=False)
        if templates.put((9, domain, template_id), specs, True):
            out.templates.append((template_id, specs, True))


def _record_length(specs) -> int | None:
    """Fixed record length, or None when a field is variable-length (IPFIX)."""
    if any(flen == VARIABLE for _, flen, _ in specs):
        return None
    return sum(flen for _, flen, _ in specs)


def _data(body, set_id, out, templates, version, domain) -> list[dict]:
    """The records of a data set (options records are counted, and mined for the
    exporter's clock, not returned)."""
    found = templates.get((version, domain, set_id))
    if found is None:
        out.missing_template += 1
        return []
    specs, options = found
    fixed = _record_length(specs)
    if fixed == 0:
        raise Malformed("template of zero-length records")
    at = 0
    minimum = fixed or len(specs)
    records = []
    while len(body) - at >= max(minimum, 1) and (fixed is not None or len(body) - at >= 4):
        values, at = _record(body, at, specs)
        if version == 10:
            out.advance += 1
        if options:
            out.options_records += 1
            init = _uint(values.get(SYSTEM_INIT_MILLIS))
            if init is not None:
                templates.system_init[(version, domain)] = init
            continue
        records.append(values)
    return records


def _record(body: bytes, at: int, specs) -> tuple[dict, int]:
    values = {}
    for ftype, flen, enterprise in specs:
        if flen == VARIABLE:
            if at + 1 > len(body):
                raise Malformed("variable length truncated")
            flen = body[at]
            at += 1
            if flen == 255:
                if at + 2 > len(body):
                    raise Malformed("variable length truncated")
                flen = struct.unpack_from("!H", body, at)[0]
                at += 2
        if at + flen > len(body):
            raise Malformed("record truncated")
        if enterprise == 0 and ftype not in values:
            values[ftype] = body[at:at + flen]
        at += flen
    return values, at


def _uint(raw: bytes | None) -> int | None:
    if raw is None or not 1 <= len(raw) <= 8:
        return None
    return int.from_bytes(raw, "big")


def _address(raw: bytes | None) -> str | None:
    if raw is not None and len(raw) == 4:
        return socket.inet_ntoa(raw)
    if raw is not None and len(raw) == 16:
        return str(ipaddress.IPv6Address(raw))  # the compressed form the network plugin keeps
    return None


def _flow(values: dict, clock) -> Flow | None:
    src = _address(values.get(SRC4)) or _address(values.get(SRC6))
    dst = _address(values.get(DST4)) or _address(values.get(DST6))
    octets = _uint(values.get(OCTETS))
    if octets is None:
        octets = _uint(values.get(OUT_OCTETS))
    if src is None or dst is None or octets is None:
        return None
    packets = _uint(values.get(PACKETS)) or 0
    return Flow(src, dst, octets, packets, _flow_time(values, clock))


def _flow_time(values: dict, clock) -> float:
    """When the flow ended (epoch seconds): absolute end time fields first, then the uptime
    of its last packet against the exporter's clock; the export time when none makes
    sense."""
    uptime, export_secs, init_ms = clock
    candidates = []
    millis = _uint(values.get(END_MILLIS))
    if millis is not None:
        candidates.append(millis / 1000.0)
    seconds = _uint(values.get(END_SECONDS))
    if seconds is not None:
        candidates.append(seconds)
    last = _uint(values.get(LAST_UPTIME))
    if last is not None and init_ms is not None:
        candidates.append((init_ms + last) / 1000.0)
    if last is not None and uptime is not None:
        candidates.append(export_secs - ((uptime - last) % 2**32) / 1000.0)
    for when in candidates:
        if 0 <= when < 2**33:  # a time a datetime can hold; anything else is garbage
            return float(when)
    return float(export_secs)


@dataclass
class Sequence:
    """Expected next sequence number per (exporter, version, domain): gaps are loss."""

    expected: dict = field(default_factory=dict)

    def check(self, key, sequence: int, advance: int) -> int:
        """Returns the number of units lost before this packet (0 when in order)."""
        expected = self.expected.get(key)
        gap = 0 if expected is None else (sequence - expected) % 2**32
        if gap >= 2**31 and gap > 2**32 - 1000:
            return 0  # a little behind: a late (reordered) packet; keep expecting the next
        self.expected[key] = (sequence + advance) % 2**32
        # far behind is an exporter restart (not loss)
        return gap if gap < 2**31 else 0


__all__ = ["Decoded", "Flow", "Malformed", "Sequence", "Templates", "decode"]
