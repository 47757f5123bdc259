"""The probes, asyncio only, no database: ICMP (icmplib), SNMP v2c GET and walk
(``snmp_wire``: our own BER over one UDP socket).

A probe never raises for a bad peer: an unreachable host, a wrong community, a missing OID
or garbage come back as an ``error`` string in the result, so one device cannot stall or
break the loop for the others.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IcmpResult:
    loss: float | None = None  # percent
    rtt_ms: float | None = None
    error: str = ""


@dataclass
class SnmpResult:
    #: {name: (value, bits)}: bits 32/64 for counters, 0 otherwise
    values: dict = field(default_factory=dict)
    error: str = ""
    #: the interface table was walked (its ``if.*`` values are in ``values``)
    interfaces: bool = False


async def icmp(host: str, count: int, interval: float, timeout: float) -> IcmpResult:
    from icmplib import async_ping

    try:
        answer = await async_ping(host, count=count, interval=interval, timeout=timeout,
                                  privileged=True)
    except Exception as exc:  # noqa: BLE001  (name resolution, permissions: recorded)
        return IcmpResult(100.0, None, f"{type(exc).__name__}: {exc}")
    return IcmpResult(answer.packet_loss * 100.0,
                      answer.avg_rtt if answer.packets_received else None)


#: one SnmpEngine per event loop: an engine used from a second loop hangs (its dispatcher
#: is bound to the loop that created it)
_ENGINES: dict[int, object] = {}


def _engine():
    import asyncio

    from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

    loop = asyncio.get_running_loop()
    engine = _ENGINES.get(id(loop))
    if engine is None or getattr(engine, "_bh_loop", None) is not loop:
        engine = SnmpEngine()
        engine._bh_loop = loop
        _ENGINES.clear()
        _ENGINES[id(loop)] = engine
    return engine


def _plain(value) -> tuple[object, int] | None:
    kind = type(value).__name__
    if kind in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return None
    if kind == "Counter64":
        return int(value), 64
    if kind == "Counter32":
        return int(value), 32
    if kind in ("Integer", "Integer32", "Gauge32", "Unsigned32", "TimeTicks"):
        return int(value), 0
    return value.prettyPrint()[:255], 0


#: OIDs per GET: agents limit a response's size (snmpsim answers at most 64 varbinds)
CHUNK = 32


async def snmp_get(host: str, port: int, community: str, oids: dict[str, str],
                   timeout: float = 1.0, retries: int = 1) -> SnmpResult:
    """GET ``oids`` ({name: numeric OID}) over v2c, in requests of at most ``CHUNK``."""
    from .snmp_wire import client

    if not oids:
        return SnmpResult()
    names = list(oids)
    values, errors = {}, []
    for at in range(0, len(names), CHUNK):
        part = names[at:at + CHUNK]
        try:
            _rid, status, index, binds = await client().request(
                host, port, community, [oids[n] for n in part], timeout=timeout,
                retries=retries)
        except TimeoutError as exc:
            return SnmpResult(values, str(exc))
        except (OSError, ValueError) as exc:
            return SnmpResult(values, f"{type(exc).__name__}: {exc}"[:300])
        if status:
            from .snmp_wire import ERRORS

            name = part[index - 1] if 0 < index <= len(part) else "?"
            errors.append(f"{ERRORS.get(status, status)} at {name}")
            continue
        for name, (_oid, _tag, value) in zip(part, binds, strict=False):
            if value is not None:
                values[name] = value
    missing = [n for n in names if n not in values]
    if missing and not errors:
        errors.append(f"no such OID: {', '.join(missing)}")
    return SnmpResult(values, "; ".join(errors)[:300])


async def snmp_walk(host: str, port: int, community: str, base: str, timeout: float = 1.0,
                    retries: int = 1, max_rows: int = 2000, repetitions: int = 25
                    ) -> tuple[dict[str, tuple[object, int]], str]:
    """GETBULK-walk the subtree ``base``: ({index suffix: (value, bits)}, error). Stops at
    the subtree's end, ``max_rows`` rows, or an agent that does not move forward."""
    from .snmp_wire import GETBULK, client

    prefix = base.strip(".") + "."
    rows: dict[str, tuple[object, int]] = {}
    current = base.strip(".")
    while len(rows) < max_rows:
        try:
            _rid, status, _index, binds = await client().request(
                host, port, community, [current], GETBULK, timeout, retries, repetitions)
        except TimeoutError as exc:
            return rows, str(exc)
        except (OSError, ValueError) as exc:
            return rows, f"{type(exc).__name__}: {exc}"[:300]
        if status or not binds:
            return rows, f"walk of {base} stopped: error {status}" if status else ""
        for oid, _tag, value in binds:
            if not oid.startswith(prefix) or value is None:
                return rows, ""
            if _oid_key(oid) <= _oid_key(current):
                return rows, f"agent returned OIDs out of order in {base}"
            rows[oid[len(prefix):]] = value
            current = oid
    return rows, ""


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.split("."))


# ------------------------------------------------------------------------------ SNMPv3
AUTH = {"SHA": "usmHMACSHAAuthProtocol", "SHA-224": "usmHMAC128SHA224AuthProtocol",
        "SHA-256": "usmHMAC192SHA256AuthProtocol", "SHA-384": "usmHMAC256SHA384AuthProtocol",
        "SHA-512": "usmHMAC384SHA512AuthProtocol"}
#: AES-192/256 with Blumenthal key extension: what net-snmp calls AES-192 and AES-256
PRIV = {"AES-128": "usmAesCfb128Protocol", "AES-192": "usmAesBlumenthalCfb192Protocol",
        "AES-256": "usmAesBlumenthalCfb256Protocol"}


def _usm(usm: tuple):
    from pysnmp.hlapi.v3arch import asyncio as hl

    user, auth, auth_key, priv, priv_key = usm
    return hl.UsmUserData(user, auth_key, priv_key, authProtocol=getattr(hl, AUTH[auth]),
                          privProtocol=getattr(hl, PRIV[priv]))


async def snmp_get_v3(host: str, port: int, usm: tuple, oids: dict[str, str],
                      timeout: float = 1.0, retries: int = 1) -> SnmpResult:
    """GET ``oids`` over SNMPv3 authPriv (pysnmp: USM keys, engine discovery). Wrong
    credentials come back as the agent's report ("Wrong SNMP PDU digest", "Unknown USM
    user")."""
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        ObjectIdentity,
        ObjectType,
        UdpTransportTarget,
        get_cmd,
    )

    if not oids:
        return SnmpResult()
    if not usm[0] or not usm[2] or not usm[4]:
        return SnmpResult(error="SNMPv3: user, auth key and privacy key are all needed")
    names = list(oids)
    values, errors = {}, []
    try:
        transport = await UdpTransportTarget.create((host, port), timeout=timeout,
                                                    retries=retries)
        for at in range(0, len(names), CHUNK):
            part = names[at:at + CHUNK]
            err, status, index, binds = await get_cmd(
                _engine(), _usm(usm), transport, ContextData(),
                *[ObjectType(ObjectIdentity(oids[n])) for n in part])
            if err:
                return SnmpResult(values, f"SNMPv3: {err}"[:300])
            if status:
                errors.append(f"{status.prettyPrint()} at {index}")
                continue
            for name, (_oid, value) in zip(part, binds, strict=False):
                plain = _plain(value)
                if plain is not None:
                    values[name] = plain
    except Exception as exc:  # noqa: BLE001  (a bad peer is recorded, never raised)
        return SnmpResult(values, f"SNMPv3: {type(exc).__name__}: {exc}"[:300])
    missing = [n for n in names if n not in values]
    if missing and not errors:
        errors.append(f"no such OID: {', '.join(missing)}")
    return SnmpResult(values, "; ".join(errors)[:300])


async def snmp_walk_v3(host: str, port: int, usm: tuple, base: str, timeout: float = 1.0,
                       retries: int = 1, max_rows: int = 2000
                       ) -> tuple[dict[str, tuple[object, int]], str]:
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        ObjectIdentity,
        ObjectType,
        UdpTransportTarget,
        bulk_walk_cmd,
    )

    prefix = base.strip(".") + "."
    rows: dict[str, tuple[object, int]] = {}
    try:
        transport = await UdpTransportTarget.create((host, port), timeout=timeout,
                                                    retries=retries)
        async for err, status, _index, binds in bulk_walk_cmd(
                _engine(), _usm(usm), transport, ContextData(), 0, 25,
                ObjectType(ObjectIdentity(base)), lexicographicMode=False):
            if err or status:
                return rows, f"SNMPv3: {err or status.prettyPrint()}"[:300]
            for oid, value in binds:
                plain, text = _plain(value), str(oid)
                if plain is None or not text.startswith(prefix):
                    return rows, ""
                rows[text[len(prefix):]] = plain
            if len(rows) >= max_rows:
                break
    except Exception as exc:  # noqa: BLE001
        return rows, f"SNMPv3: {type(exc).__name__}: {exc}"[:300]
    return rows, ""


# ------------------------------------------------------------------------------ interfaces
IF_NAME, IF_DESCR = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2"
#: (metric suffix, 64-bit ifXTable column, 32-bit ifTable fallback)
IF_COUNTERS = (("in", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.2.2.1.10"),
               ("out", "1.3.6.1.2.1.31.1.1.1.10", "1.3.6.1.2.1.2.2.1.16"))
MAX_INTERFACES = 256


def interface_metric(name: str, index: str) -> str:
    """``if.<name>``: the interface's name kept to letters, digits and ``_.-/:`` (its index
    when nothing is left), at most 48 characters so a metric fits its 64."""
    clean = "".join(c if c.isalnum() or c in "_.-/:" else "_" for c in str(name))[:48]
    return f"if.{clean or index}"


async def snmp_interfaces(walk) -> tuple[dict[str, tuple[object, int]], str]:
    """Interface counters by walking; ``walk(base)`` is a v2c or v3 walk of this device.
    Returns ({"if.eth0.in": (octets, bits), ...}, error): 64-bit HC counters where the
    agent has ifXTable, else ifTable's 32-bit ones (their wraps come four billion octets
    apart: a 1 Gbit/s link wraps every 34 s)."""
    names, error = await walk(IF_NAME)
    if not names:
        names, error = await walk(IF_DESCR)
    if error and not names:
        return {}, error
    labels, seen = {}, set()
    for index, (name, _bits) in list(names.items())[:MAX_INTERFACES]:
        label = interface_metric(name, index)
        if label in seen:
            label = f"{label}#{index}"[:51]
        seen.add(label)
        labels[index] = label
    values: dict[str, tuple[object, int]] = {}
    for suffix, hc, legacy in IF_COUNTERS:
        rows, error = await walk(hc)
        if not rows:
            rows, error = await walk(legacy)
        for index, (count, bits) in rows.items():
            if index in labels and isinstance(count, int):
                values[f"{labels[index]}.{suffix}"] = (count, bits or 32)
    return values, error
