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
from datetime import UTC, datetime, timedelta

from .netflow import Flow

MAX_CACHE = 200_000
INFINITY = float("inf")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
            # epoch seconds: flows carry their time as a float, compared without datetimes
            self.spans[address] = tuple(
                (sid, start.timestamp(), end.timestamp() if end is not None else INFINITY)
                for sid, start, end in found.get(address, ()))

    def holder_at(self, address: str, ts: float) -> int | None:
        """The holder of ``address`` at epoch second ``ts``."""
        if self.history is not None and ":" not in address:
            spans = self.spans.get(address)
            if spans is None:
                self.prefetch([address])
                spans = self.spans[address]
            for subscription_id, start, end in spans:  # newest first, as the network api
                if start <= ts < end:
                    return subscription_id
            return None
        at = _epoch(ts)
        key = (address, at.replace(second=0, microsecond=0))
        if key not in self.cache:
            if len(self.cache) >= MAX_CACHE:
                self.cache.clear()
            self.lookups += 1
            self.cache[key] = self.holder(address, at)
        return self.cache[key]

    def holder_of(self, address: str, at: datetime) -> int | None:
        return self.holder_at(address, at.timestamp())

    def forget(self) -> None:
        """Drop cached answers (addresses change hands; called every minute)."""
        self.cache.clear()
        self.spans.clear()

    def attribute(self, exporter: str, flows: Iterable[Flow], holders: bool = False):
        """``(hours, unattributed, holders)``: ``{(subscription, hour, "netflow"): [down,
        up]}`` for :func:`rollup.add_hours`, ``{(exporter, hour): [bytes, flows]}`` and, when
        asked (raw flows are kept), the subscription of each flow (None when unknown)."""
        flows = flows if isinstance(flows, list) else list(flows)
        self.prefetch({a for f in flows for a in (f.src, f.dst)})
        per: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        lost: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        found: list[int | None] = []
        holder_at, spans = self.holder_at, self.spans
        for flow in flows:
            ts = flow.ts
            hour = int(ts // 3600)
            # the common case inline: an address held once (and still held, or then)
            held = spans.get(flow.dst)
            if held is not None and len(held) == 1 and held[0][1] <= ts < held[0][2]:
                down_to = held[0][0]
            else:
                down_to = holder_at(flow.dst, ts) if held != () else None
            held = spans.get(flow.src)
            if held is not None and len(held) == 1 and held[0][1] <= ts < held[0][2]:
                up_from = held[0][0]
            else:
                up_from = holder_at(flow.src, ts) if held != () else None
            if down_to is not None:
                per[(down_to, hour)][0] += flow.bytes
            if up_from is not None:
                per[(up_from, hour)][1] += flow.bytes
            if down_to is None and up_from is None:
                bucket = lost[hour]
                bucket[0] += flow.bytes
                bucket[1] += 1
            if holders:
                found.append(down_to if down_to is not None else up_from)
        hours = {h: _epoch(h * 3600) for h in {h for _, h in per} | set(lost)}
        sums = {(sid, hours[h], "netflow"): pair for (sid, h), pair in per.items()}
        unknown = {(exporter, hours[h]): pair for h, pair in lost.items()}
        return sums, unknown, found


def _epoch(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)
