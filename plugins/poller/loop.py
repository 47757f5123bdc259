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
import os
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
from .spool import Spool
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


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (a dead connection: the session starts afresh)
        db.session.remove()


class PollLoop:
    """The scheduling core, separate from the service for tests: ``tick()`` starts every
    due target that is not in flight; finished results wait in ``done`` for ``flush()``."""

    def __init__(self, concurrency: int = 50, poll=poll_target, spool: Spool | None = None):
        self.spool = spool
        #: the current targets by key (what spooled results are written against)
        self.targets: dict[str, Target] = {}
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
        """Write the finished results in one transaction. With a ``spool``, a batch that
        cannot be written goes to disk and waits there, and new batches queue behind it
        until the database takes them again (in poll order)."""
        batch, self.done = self.done, []
        if self.spool is None:
            return self._write_kept(batch)
        if batch and len(self.spool):
            self.spool.put(batch)
            batch = []
        written = 0
        try:
            if len(self.spool):
                written += self.spool.drain(write_batch, self.targets)
            if batch:
                write_batch(batch)
                written += len(batch)
        except Exception as exc:  # noqa: BLE001  (the database is away: keep on disk)
            _rollback()
            if batch:
                self.spool.put(batch)
            log.warning("poll results not written (%s: %s); %d batch(es) spooled on disk",
                        type(exc).__name__, str(exc)[:200], len(self.spool))
        self.written += written
        return written

    def _write_kept(self, batch: list[PollResult]) -> int:
        if batch:
            try:
                write_batch(batch)
            except Exception:
                _rollback()
                log.exception("writing %d poll results failed; kept for the next flush",
                              len(batch))
                self.done = batch + self.done
                return 0
            self.written += len(batch)
        return len(batch)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


def _spool(settings: dict) -> Spool:
    from flask import current_app

    folder = settings.get("spool_dir") or os.path.join(current_app.instance_path,
                                                       "poller-spool")
    return Spool(folder, int(settings.get("spool_max_mb", 512)) * 2**20)


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
        self.loop = PollLoop(settings.get("concurrency", 50), spool=_spool(settings))
        targets: list[Target] = []
        loaded = pruned = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - loaded > settings.get("reload_seconds", 30):
                targets, loaded = self._reload(shard, targets), now
            if now - pruned > 3600:
                try:
                    prune(datetime.now(UTC), settings.get("retention_days", 30))
                    pruned = now
                except Exception:  # noqa: BLE001  (database away: try again later)
                    _rollback()
            self.loop.tick(targets, now)
            await asyncio.sleep(settings.get("flush_seconds", 1.0))
            self.loop.flush()
        await self.loop.drain()
        self.loop.flush()

    def _reload(self, shard: Shard, targets: list[Target]) -> list[Target]:
        """This shard's targets; the last known ones while the database is away."""
        try:
            targets = [t for t in load_targets() if shard.owns(t.key)]
            db.session.commit()
        except Exception as exc:  # noqa: BLE001
            _rollback()
            log.warning("targets not reloaded (%s); polling the last known %d",
                        type(exc).__name__, len(targets))
        self.targets = len(targets)
        self.loop.targets = {t.key: t for t in targets}
        return targets

    def health(self) -> dict:
        loop = self.loop
        if loop is None:
            return {}
        return {"targets": self.targets, "polls": loop.polls, "written": loop.written,
                "spooled_batches": len(loop.spool) if loop.spool else 0,
                "in_flight": len(loop.in_flight), "skipped_overlaps": loop.skipped}
