"""Discovery: ping every address of a subnet and keep the ones that answer, so that the
templates applied to the subnet (``kind="subnet"``) poll them as ``host:<address>``.

Bounded: IPv4 subnets of at most 256 addresses per scan (a /24), one echo per address,
64 in flight, a 1-second timeout: a scan takes a few seconds whatever the subnet.
"""
from __future__ import annotations

import asyncio
import ipaddress
import threading
from datetime import datetime

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.graphql import FieldErrors

from .models import Applied, Host

MAX_ADDRESSES = 256


def parse_subnet(text: str, field: str = "subnet") -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(str(text or "").strip(), strict=False)
    except ValueError:
        raise FieldErrors({field: ["an IPv4 subnet such as 192.0.2.0/24"]}) from None
    if net.version != 4:
        raise FieldErrors({field: ["IPv4 only"]})
    if net.num_addresses > MAX_ADDRESSES:
        raise FieldErrors({field: [f"at most {MAX_ADDRESSES} addresses (/24) per scan"]})
    return net


async def _ping_all(addresses: list[str], timeout: float) -> list[tuple[str, float]]:
    from icmplib import async_multiping

    if not addresses:
        return []
    hosts = await async_multiping(addresses, count=1, timeout=timeout, concurrent_tasks=64,
                                  privileged=True)
    return [(h.address, h.avg_rtt) for h in hosts if h.is_alive]


def _run(coro):
    """Run ``coro`` on an event loop of its own thread (callers may be in a running loop:
    a request under a browser test, the poller's own loop)."""
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name="poller-discovery")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def scan(subnet: str, timeout: float = 1.0, at: datetime | None = None) -> list[Host]:
    """Ping ``subnet`` now; record and return the hosts that answered."""
    net = parse_subnet(subnet)
    addresses = [str(a) for a in (net.hosts() if net.prefixlen < 31 else net)]
    try:
        found = _run(_ping_all(addresses, timeout))
    except Exception as exc:  # noqa: BLE001  (no ICMP permission...: say so)
        raise FieldErrors({"subnet": [f"cannot ping: {type(exc).__name__}: {exc}"]}) from None
    at = at or utcnow()
    rows = []
    for address, rtt in found:
        row = db.session.get(Host, address) or Host(address=address, first_seen=at)
        row.subnet, row.last_seen, row.rtt_ms = str(net), at, rtt
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def applied_subnets() -> list[str]:
    return sorted(set(db.session.scalars(sa.select(Applied.value).where(
        Applied.kind == "subnet"))))


def scan_applied() -> int:
    """Scan every subnet a template is applied to (the periodic job); hosts found."""
    found = 0
    for subnet in applied_subnets():
        try:
            found += len(scan(subnet))
        except FieldErrors:
            continue
        db.session.commit()
    return found


def hosts(limit: int = 200, subnet: str | None = None) -> list[Host]:
    query = sa.select(Host).order_by(Host.subnet, Host.address).limit(max(1, min(limit, 5000)))
    if subnet:
        query = query.where(Host.subnet == subnet)
    return list(db.session.scalars(query))
