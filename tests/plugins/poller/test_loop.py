"""The loop's scheduling: never two polls of one device at once, bounded concurrency,
per-device intervals."""
from __future__ import annotations

import asyncio

from poller_helpers import run_async

from backhaul.plugins.poller.loop import PollLoop
from backhaul.plugins.poller.store import PollResult
from backhaul.plugins.poller.targets import Target, TemplateSpec

SPEC = TemplateSpec(1, "t", 10, True, 1, 0.1, 0.5, 20, 200, False, "public", 161, 1.0)


def test_never_polls_one_device_twice_at_once():
    targets = [Target(f"device:{i}", f"d{i}", "127.0.0.1", None, (SPEC,)) for i in range(6)]
    running: dict[str, int] = {}
    worst = {"per_device": 0, "total": 0}
    polls: dict[str, int] = {}

    async def slow_poll(target):
        running[target.key] = running.get(target.key, 0) + 1
        worst["per_device"] = max(worst["per_device"], running[target.key])
        worst["total"] = max(worst["total"], sum(running.values()))
        polls[target.key] = polls.get(target.key, 0) + 1
        # slower than the interval: every later tick finds it still in flight
        await asyncio.sleep(0.3)
        running[target.key] -= 1
        return PollResult(target, None)

    async def main():
        loop = PollLoop(concurrency=2, poll=slow_poll)
        for step in range(40):
            # a fake clock 20 s per tick: every device is always due again
            loop.tick(targets, now=step * 20.0)
            await asyncio.sleep(0.02)
        await loop.drain()
        return loop

    loop = run_async(main())
    assert worst["per_device"] == 1
    assert worst["total"] <= 2
    assert loop.skipped > 0
    assert all(n >= 1 for n in polls.values()) and len(polls) == 6


def test_interval_respected():
    target = Target("device:1", "d", "127.0.0.1", None, (SPEC,))
    polls = []

    async def quick(t):
        polls.append(t.key)
        return PollResult(t, None)

    async def main():
        loop = PollLoop(poll=quick)
        for now in (0.0, 1.0, 5.0, 9.9, 10.0, 15.0, 20.0):
            loop.tick([target], now=now)
            await asyncio.sleep(0)
            await loop.drain()

    run_async(main())
    assert len(polls) == 3  # at 0, 10 and 20 (interval 10 s)
