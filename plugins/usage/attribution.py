"""Whose bytes: a flow belongs to the service that held its subscriber-side address at the
flow's time (the network plugin's address history). Destination held by a service: its
download; source held by one: its upload; both (one tenant to another): each side counts
its own direction; neither: unattributed (counted apart, per exporter).

The history of every address a batch mentions is read in one query and cached (bounded,
forgotten every minute), so a busy collector asks the database once per batch, not once
per flow or address.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from .netflow import Flow
from .rollup import Delta, hour_of

MAX_CACHE = 200_000


class Attributor:
    """``holder_of(address, at)`` over the network plugin's address history, cached.

    IPv4 (and exact IPv6) addresses: the whole history of every address a batch mentions is
    loaded in one query (``address_history``) and flow times are matched locally, so a batch
    costs one query however many flows it holds. IPv6 addresses, which may fall inside a
    delegated prefix, go through ``holder_of_address`` per address and minute.
    """

    def __init__(self, holder: Callable[[str, datetime], int | None] | None = None,
                 history: Callable | None = None):
        if holder is None:
            from backhaul.plugins.network import api

            holder, history = api.holder_of_address, getattr(api, "address_history", None)
        self.holder = holder
        self.history = history
        self.spans: dict[str, tuple] = {}
        self.cache: dict[tuple[str, datetime], int | None] = {}
        self.lookups = 0

    def prefetch(self, addresses: Iterable[str]) -> None:
        if self.history is None:
            return
        missing = {a for a in addresses if ":" not in a and a not in self.spans}
        if not missing:
            return
        if len(self.spans) + len(missing) > MAX_CACHE:
            self.spans.clear()
        self.lookups += 1
        found = self.history(missing)
        for address in missing:
            self.spans[address] = tuple(found.get(address, ()))

    def holder_of(self, address: str, at: datetime) -> int | None:
        if self.history is not None and ":" not in address:
            spans = self.spans.get(address)
            if spans is None:
                self.prefetch([address])
                spans = self.spans[address]
            for subscription_id, start, end in spans:  # newest first, as the network api
                if start <= at and (end is None or at < end):
                    return subscription_id
            return None
        key = (address, at.replace(second=0, microsecond=0))
        if key not in self.cache:
            if len(self.cache) >= MAX_CACHE:
                self.cache.clear()
            self.lookups += 1
            self.cache[key] = self.holder(address, at)
        return self.cache[key]

    def forget(self) -> None:
        """Drop cached answers (addresses change hands; called every minute)."""
        self.cache.clear()
        self.spans.clear()

    def attribute(self, exporter: str, flows: Iterable[Flow]):
        """``(deltas, unattributed, holders)``: rollup deltas, ``{(exporter, hour): [bytes,
        flows]}`` and the subscription of each flow (None when unknown), in order."""
        deltas: list[Delta] = []
        unknown: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
        holders: list[int | None] = []
        flows = list(flows)
        self.prefetch({a for f in flows for a in (f.src, f.dst)})
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
