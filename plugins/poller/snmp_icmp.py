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
