"""Shared helpers of the poller tests."""
from __future__ import annotations

import asyncio

ONCALL = "noc@isp.example.net"
#: device_state_changed calls seen by the in-test plugin (cleared per test)
EVENTS: list[dict] = []


def run_async(coro):
    """``asyncio.run(coro)`` in a thread of its own: the suite's browser tests keep an event
    loop running in the main thread (Playwright's sync API), where asyncio.run refuses."""
    import threading

    box: dict = {}

    def target():
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def make_device(name="radio-1", host="127.0.0.1", role="radio"):
    from backhaul.plugins.network.models import Device
    from backhaul.sdk import db

    device = Device(name=name, backend="testkit.directory", host=host, role=role)
    db.session.add(device)
    db.session.commit()
    return device


def poll_once(keys=None):
    """Load targets, poll each once for real, write the batch; returns the results."""
    from backhaul.plugins.poller.loop import poll_target
    from backhaul.plugins.poller.store import write_batch
    from backhaul.plugins.poller.targets import load_targets

    targets = [t for t in load_targets() if keys is None or t.key in keys]

    async def run():
        return await asyncio.gather(*(poll_target(t) for t in targets))

    results = run_async(run())
    write_batch(list(results))
    return results
