"""The two probes, asyncio only, no database: ICMP (icmplib) and SNMP v2c GET (pysnmp 7).

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


async def snmp_get(host: str, port: int, community: str, oids: dict[str, str],
                   timeout: float = 1.0, retries: int = 1) -> SnmpResult:
    """GET ``oids`` ({name: numeric OID}) in one request."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        UdpTransportTarget,
        get_cmd,
    )

    if not oids:
        return SnmpResult()
    try:
        transport = await UdpTransportTarget.create((host, port), timeout=timeout,
                                                    retries=retries)
        names = list(oids)
        err, status, index, binds = await get_cmd(
            _engine(), CommunityData(community, mpModel=1), transport, ContextData(),
            *[ObjectType(ObjectIdentity(oids[n])) for n in names])
    except Exception as exc:  # noqa: BLE001
        return SnmpResult(error=f"{type(exc).__name__}: {exc}"[:300])
    if err:
        return SnmpResult(error=str(err)[:300])
    if status:
        return SnmpResult(error=f"{status.prettyPrint()} at {index}"[:300])
    values = {}
    for name, (_oid, value) in zip(names, binds, strict=False):
        plain = _plain(value)
        if plain is not None:
            values[name] = plain
    missing = [n for n in names if n not in values]
    return SnmpResult(values, f"no such OID: {', '.join(missing)}" if missing else "")
