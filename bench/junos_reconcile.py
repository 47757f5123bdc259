"""Benchmark: desired-state reconcile of one Junos device vs one commit per subscriber.

Against the Junos NETCONF simulator (``backhaul.sdk.testing.junos``) on loopback, through the
real client stack (NAPALM junos driver -> PyEZ -> ncclient -> paramiko SSH), with N Backhaul
subscribers (two policers, two filters; every tenth one a business VLAN unit with a static
route):

* **initial apply** — read, diff, one load of all N subscribers, one compare, one commit
  confirmed and its confirming commit;
* **no-op reconcile** — the same desired state again: must load and commit nothing;
* **delinquency of 10%** — the billing run flags every tenth subscriber: their /32s go into
  the delinquent prefix list in one load and one commit confirmed;
* **drift repair** — 1% of the policers changed by hand, then a reconcile;
* **naive: one commit per subscriber** — what a per-subscriber integration does for the same
  delinquency change, on one NETCONF session: load, commit, for each subscriber.

NETCONF RPCs are counted by the simulator. On a real MX a commit takes seconds (the whole
configuration is checked and handed to the daemons), so commits are what matters; the last
column prices them at 3 s each.

    .venv/bin/python -m bench.junos_reconcile [--scale small|full] [--write-results]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version as _version

from backhaul.plugins.network_juniper.backend import JunosBackend
from backhaul.sdk.provisioning import DeviceRef, Subscriber, SubscriberState, diff
from backhaul.sdk.testing.junos import JunosSimulator

from . import common

NAME = "junos_reconcile"
SIZES = {"small": 1000, "full": 2000}
COMMIT_SECONDS = 3.0  # a typical MX commit; the simulator's own is milliseconds


def subscribers(n: int, delinquent: bool = False) -> list[Subscriber]:
    out = []
    for i in range(1, n + 1):
        plan = (100_000, 20_000) if i % 3 else (1_000_000, 200_000)
        late = delinquent and i % 10 == 0
        out.append(Subscriber(
            key=f"sub-{i}", account_number=f"A{i}",
            ipv4=f"100.{64 + (i >> 16 & 63)}.{i >> 8 & 255}.{i & 255}",
            vlan=(1000 + i) if i % 10 == 1 else None,
            download_kbps=plan[0], upload_kbps=plan[1],
            state=SubscriberState.REDIRECTED if late else SubscriberState.ACTIVE))
    return out


def reconcile(backend, device, subs, sim):
    sim.reset_counters()
    started = time.perf_counter()
    desired = {s.key: backend.render(device, s) for s in subs}
    changes = diff(desired, backend.read(device), {s.key: s for s in subs})
    if changes:
        result = backend.apply(device, changes)
        if not result.ok:
            raise common.BenchError(f"apply failed: {result.failed[:3]}")
    return (time.perf_counter() - started, sum(sim.rpcs.values()),
            sim.rpcs["load-configuration"], sim.commits, len(changes))


def naive(device, subs, backend, sim):
    """One load and one commit per changed subscriber, on one session."""
    from napalm import get_network_driver

    s = backend.validate_settings(dict(device.settings))
    have = backend.owned(sim.show("set"), s)
    sim.reset_counters()
    started = time.perf_counter()
    driver = get_network_driver("junos")("127.0.0.1", "admin", "bench", timeout=120,
                                         optional_args={"port": sim.port})
    driver.open()
    changed = 0
    for sub in subs:
        lines = backend.statements(s, have.get(sub.key, {}), backend.render(device, sub))
        if lines:
            driver.load_merge_candidate(config="\n".join(lines))
            driver.commit_config()
            changed += 1
    driver.close()
    return (time.perf_counter() - started, sum(sim.rpcs.values()),
            sim.rpcs["load-configuration"], sim.commits, changed)


def run(n: int) -> dict:
    backend = JunosBackend()
    rows = {}
    with JunosSimulator(password="bench") as sim, JunosSimulator(password="bench") as other:
        def device(target):
            return DeviceRef(id=1, name="bench-mx", backend=backend.key, host="127.0.0.1",
                             port=target.port, username="admin", password="bench",
                             settings={"timeout": 120, "business_interface": "ge-0/0/1"})
        dev = device(sim)
        active, late = subscribers(n), subscribers(n, delinquent=True)
        rows["initial apply"] = reconcile(backend, dev, active, sim)
        rows["no-op reconcile"] = noop = reconcile(backend, dev, active, sim)
        if noop[4] or noop[3] or noop[2]:
            raise common.BenchError(f"no-op reconcile changed something: {noop}")
        rows["delinquency of 10% (one commit)"] = reconcile(backend, dev, late, sim)
        for i in range(1, n + 1, 100):
            sim.configure(f"set groups backhaul firewall policer bh-sub-{i}-down "
                          "if-exceeding bandwidth-limit 5m")
        rows["drift repair (1% of policers)"] = reconcile(backend, dev, late, sim)
        if reconcile(backend, dev, late, sim)[4]:
            raise common.BenchError("drift not repaired")
        # the naive integration starts from the same device state
        other.configure(sim.show("set") and _without(sim, late, backend, dev))
        rows["naive: delinquency of 10%, one commit per subscriber"] = naive(
            device(other), late, backend, other)
        if backend.owned(other.show("set"), backend.validate_settings(dict(dev.settings))) \
                != backend.owned(sim.show("set"), backend.validate_settings(dict(dev.settings))):
            raise common.BenchError("the naive push did not reach the same configuration")
        lines = len(sim.show("set").splitlines())
    return {"n": n, "rows": rows, "lines": lines}


def _without(sim, late, backend, dev) -> str:
    """The device's configuration before the delinquency (every subscriber active)."""
    s = backend.validate_settings(dict(dev.settings))
    text = sim.show("set")
    listed = f"set groups backhaul policy-options prefix-list {s['delinquent_list']} "
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith(listed))


def report(result: dict, scale_name: str) -> str:
    n = result["n"]
    lines = [f"## Junos reconcile vs one commit per subscriber (`bench/{NAME}.py`)", "",
             f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (`BENCH_SCALE={scale_name}`) on "
             f"{os.cpu_count()} cores ({platform.machine()}); Python {platform.python_version()}, "
             f"napalm {_version('napalm')}, junos-eznc {_version('junos-eznc')}, ncclient "
             f"{_version('ncclient')}; NETCONF over SSH to the simulator on loopback, one "
             "process.", "",
             f"**{n:,} subscribers** on one device ({result['lines']:,} `display set` lines in "
             "group `backhaul`: policers, filters, 10% business VLAN units with routes).", "",
             "| pass | wall time | NETCONF RPCs | loads | commits | changes | "
             f"commits at {COMMIT_SECONDS:.0f} s on an MX |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, (t, rpcs, loads, commits, changes) in result["rows"].items():
        lines.append(f"| {name} | {t:.2f} s | {rpcs:,} | {loads:,} | {commits:,} | "
                     f"{changes:,} | {commits * COMMIT_SECONDS:,.0f} s |")
    rows = result["rows"]
    one = rows["delinquency of 10% (one commit)"]
    many = rows["naive: delinquency of 10%, one commit per subscriber"]
    lines += ["", f"A reconcile is one load, one compare and one commit confirmed (plus its "
              f"confirming commit) whatever the number of changed subscribers; the no-op "
              f"loads and commits nothing. The same delinquency change pushed one subscriber "
              f"at a time costs {many[1] / max(one[1], 1):.1f}x the RPCs and "
              f"{many[3] / max(one[3], 1):.0f}x the commits (wall time here "
              f"{many[0] / max(one[0], 1e-9):.1f}x; on a real device the commits dominate)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}")
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--subscribers", type=int, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    scale_name = common.scale(args.scale)
    result = run(args.subscribers or SIZES[scale_name])
    text = report(result, scale_name)
    print(text)
    if args.write_results:
        common.write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
