"""``backhaul serve poller.loop``: the asyncio poll loop.

One event loop per process; at most ``concurrency`` targets are polled at once (a
semaphore); each target is due every ``interval`` seconds and is never polled twice at
once (an in-flight set: a slow device is skipped, not stacked). Results queue up and are
written in batches (``write_batch``) from the loop's own thread. ``--shard I/N`` splits the
targets with ``Shard.owns(target key)``.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime

from backhaul.sdk import Service, Shard, current_plugin_settings, db

from .snmp_icmp import (
    SnmpResult,
    icmp,
    snmp_get,
    snmp_get_v3,
    snmp_interfaces,
    snmp_walk,
    snmp_walk_v3,
)
from .store import PollResult, prune, write_batch
from .targets import Target, load_targets

log = logging.getLogger(__name__)


async def poll_target(target: Target) -> PollResult:
    """ICMP and SNMP for one target, concurrently; never raises."""
    result = PollResult(target, datetime.now(UTC))
    jobs = {}
    for tpl in target.templates:
        if tpl.icmp_enabled and "icmp" not in jobs:
            jobs["icmp"] = icmp(target.host, tpl.icmp_count, tpl.icmp_interval,
                                tpl.icmp_timeout)
        if tpl.snmp_enabled and "snmp" not in jobs:
            jobs["snmp"] = _snmp(target, tpl)
    answers = await asyncio.gather(*jobs.values(), return_exceptions=True)
    for kind, answer in zip(jobs, answers, strict=True):
        if isinstance(answer, BaseException):
            result.errors.append(f"{kind}: {type(answer).__name__}: {answer}")
        else:
            setattr(result, kind, answer)
    return result


async def _snmp(target: Target, tpl) -> SnmpResult:
    """The first SNMP template's agent settings (version, credentials) for every SNMP
    template's OIDs, and the interface table when any template asks for it."""
    oids = {o["name"]: o["oid"] for t in target.templates if t.snmp_enabled for o in t.oids}
    if tpl.version == "3":
        result = await snmp_get_v3(target.host, tpl.snmp_port, tpl.usm or ("",) * 5, oids,
                                   tpl.snmp_timeout)

        async def walk(base):
            return await snmp_walk_v3(target.host, tpl.snmp_port, tpl.usm or ("",) * 5,
                                      base, tpl.snmp_timeout)
    else:
        result = await snmp_get(target.host, tpl.snmp_port, tpl.snmp_community, oids,
                                tpl.snmp_timeout)

        async def walk(base):
            return await snmp_walk(target.host, tpl.snmp_port, tpl.snmp_community, base,
                                   tpl.snmp_timeout)
    unreachable = result.error.startswith(("No SNMP response", "SNMPv3"))
    if any(t.interfaces for t in target.templates if t.snmp_enabled) and not unreachable:
        values, error = await snmp_interfaces(walk)
        result.values.update(values)
        if error:
            result.error = "; ".join(filter(None, [result.error, f"interfaces: {error}"]))
        result.interfaces = True
    return result


class PollLoop:
    """The scheduling core, separate from the service for tests: ``tick()`` starts every
    due target that is not in flight; finished results wait in ``done`` for ``flush()``."""

    def __init__(self, concurrency: int = 50, poll=poll_target):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.poll = poll
        self.in_flight: set[str] = set()
        self.next_due: dict[str, float] = {}
        self.done: list[PollResult] = []
        self.tasks: set[asyncio.Task] = set()
        self.polls = self.skipped = self.written = 0

    def tick(self, targets: list[Target], now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        started = 0
        for target in targets:
            if target.key in self.in_flight:
                if now >= self.next_due.get(target.key, 0):
                    self.skipped += 1
                continue
            if now < self.next_due.get(target.key, 0):
                continue
            self.in_flight.add(target.key)
            self.next_due[target.key] = now + target.interval
            task = asyncio.get_running_loop().create_task(self._run(target))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started

    async def _run(self, target: Target) -> None:
        try:
            async with self.semaphore:
                self.polls += 1
                self.done.append(await self.poll(target))
        except Exception:  # noqa: BLE001  (a probe bug must not end the loop)
            log.exception("poll of %s failed", target.key)
        finally:
            self.in_flight.discard(target.key)

    def flush(self) -> int:
        batch, self.done = self.done, []
        if batch:
            try:
                write_batch(batch)
            except Exception:
                db.session.rollback()
                log.exception("writing %d poll results failed; kept for the next flush",
                              len(batch))
                self.done = batch + self.done
                return 0
            self.written += len(batch)
        return len(batch)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


class PollerService(Service):
    name = "poller.loop"
    label = "ICMP/SNMP poller"

    def __init__(self):
        self.loop: PollLoop | None = None
        self.targets = 0

    def run(self, stop: threading.Event, shard: Shard) -> None:
        asyncio.run(self._main(stop, shard))

    async def _main(self, stop: threading.Event, shard: Shard) -> None:
        settings = current_plugin_settings("poller") or {}
        self.loop = PollLoop(settings.get("concurrency", 50))
        targets: list[Target] = []
        loaded = pruned = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - loaded > settings.get("reload_seconds", 30):
                targets = [t for t in load_targets() if shard.owns(t.key)]
                db.session.commit()
                self.targets, loaded = len(targets), now
            if now - pruned > 3600:
                prune(datetime.now(UTC), settings.get("retention_days", 30))
                pruned = now
            self.loop.tick(targets, now)
            await asyncio.sleep(settings.get("flush_seconds", 1.0))
            self.loop.flush()
        await self.loop.drain()
        self.loop.flush()

    def health(self) -> dict:
        loop = self.loop
        if loop is None:
            return {}
        return {"targets": self.targets, "polls": loop.polls, "written": loop.written,
                "in_flight": len(loop.in_flight), "skipped_overlaps": loop.skipped}
