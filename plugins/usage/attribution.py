"""Whose bytes: a flow belongs to the service that held its subscriber-side address at the
flow's time (the network plugin's address history). Destination held by a service: its
download; source held by one: its upload; both (one tenant to another): each side counts
its own direction; neither: unattributed (counted apart, per exporter).

Lookups are cached per address and minute (bounded), so a busy collector asks the database
about each active address about once a minute, not once per flow.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from .netflow import Flow
from .rollup import Delta, hour_of

MAX_CACHE = 200_000


class Attributor:
    def __init__(self, holder: Callable[[str, datetime], int | None] | None = None):
        if holder is None:
            from backhaul.plugins.network.api import holder_of_address as holder
        self.holder = holder
        self.cache: dict[tuple[str, datetime], int | None] = {}
        self.lookups = 0

    def holder_of(self, address: str, at: datetime) -> int | None:
        key = (address, at.replace(second=0, microsecond=0))
        if key not in self.cache:
            if len(self.cache) >= MAX_CACHE:
                self.cache.clear()
            self.lookups += 1
            self.cache[key] = self.holder(address, at)
        return self.cache[key]

    def forget(self) -> None:
        """Drop cached answers (an address changed hands)."""
        self.cache.clear()

    def attribute(self, exporter: str, flows: Iterable[Flow]):
        """``(deltas, unattributed, holders)``: rollup deltas, ``{(exporter, hour): [bytes,
        flows]}`` and the subscription of each flow (None when unknown), in order."""
        deltas: list[Delta] = []
        unknown: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
        holders: list[int | None] = []
        for flow in flows:
            down_to = self.holder_of(flow.dst, flow.at)
            up_from = self.holder_of(flow.src, flow.at)
            if down_to is not None:
                deltas.append(Delta(down_to, flow.at, flow.bytes, 0, "netflow"))
            if up_from is not None:
                deltas.append(Delta(up_from, flow.at, 0, flow.bytes, "netflow"))
            if down_to is None and up_from is None:
                bucket = unknown[(exporter, hour_of(flow.at))]
                bucket[0] += flow.bytes
                bucket[1] += 1
            holders.append(down_to if down_to is not None else up_from)
        return deltas, unknown, holders
