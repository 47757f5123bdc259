"""Poller: SNMP values per second per core against snmpsim, beside net-snmp's ``snmpget`` and
``snmpbulkget`` reading the same OIDs from the same agents in the same run (issue 17).

snmpsim serves N agents (each its own data file and community) with K values each: sysDescr,
sysUpTime, 8 ifHCInOctets counters (a table column, so ``snmpbulkget`` can read it in one
GETBULK). Every path reads the same N x K values; cost is the CPU time of the reader only
(``time.process_time`` for in-process paths, ``RUSAGE_CHILDREN`` for the net-snmp tools,
which run one process per agent as a script would), so values per CPU-second is values per
core and snmpsim's own cost (the other core) is left out. Paths:

1. net-snmp ``snmpget``, all K OIDs in one request per agent (the yardstick, 1.00x);
2. net-snmp ``snmpbulkget`` (GET of the 2 scalars + GETBULK of the column);
3. the poller's probe ``snmp_get`` (own BER, one UDP socket, 100 in flight);
4. pysnmp 7's hlapi ``get_cmd`` (what the poller used before), on a sample of agents;
5. the whole poll as the service runs it: probe + ``write_batch`` to PostgreSQL (rates,
   levels, state, samples); its CPU per device gives the share of a core 5,000 devices on a
   5-minute cycle need (the goal: at most half a core; PostgreSQL's own CPU not included).
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from . import common

NAME = "poller_snmp"
#: agents, agents sampled for the slow pysnmp hlapi path
SIZES = {"small": (200, 40), "full": (500, 100)}
IFACES = 8
SCALARS = {"descr": "1.3.6.1.2.1.1.1.0", "uptime": "1.3.6.1.2.1.1.3.0"}
COLUMN = "1.3.6.1.2.1.31.1.1.1.6"
OIDS = {**SCALARS, **{f"in{i}": f"{COLUMN}.{i}" for i in range(1, IFACES + 1)}}


def records(i: int):
    from backhaul.sdk.testing.snmpsim import COUNTER64, OCTETS, TIMETICKS

    rows = [(SCALARS["descr"], OCTETS, f"radio {i}"), (SCALARS["uptime"], TIMETICKS, 100 + i)]
    rows += [(f"{COLUMN}.{n}", COUNTER64, 2**40 + 1000 * i + n) for n in range(1, IFACES + 1)]
    return rows


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_netsnmp(farm, tool: str) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, values read) of one process per agent, 8 at a time."""
    def argv(i):
        base = [tool, "-v2c", "-c", farm.community(i), "-On", "-t", "5", "-r", "1"]
        if tool == "snmpbulkget":
            return [*base, "-Cn2", f"-Cr{IFACES}", f"{farm.host}:{farm.port}",
                    *SCALARS.values(), COLUMN]
        return [*base, f"{farm.host}:{farm.port}", *OIDS.values()]

    cpu0, wall0, values = children_cpu(), time.perf_counter(), 0
    running: list[subprocess.Popen] = []
    for i in range(farm.count):
        running.append(subprocess.Popen(argv(i), stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True))
        if len(running) >= 8:
            values += _count(running.pop(0))
    while running:
        values += _count(running.pop(0))
    return children_cpu() - cpu0, time.perf_counter() - wall0, values


def _count(proc: subprocess.Popen) -> int:
    out, _ = proc.communicate()
    return sum(1 for line in out.splitlines() if f"{COLUMN}." in line or any(
        f".{o} " in line for o in SCALARS.values()))


def run_probe(farm, count: int, probe) -> tuple[float, float, int]:
    async def main():
        semaphore = asyncio.Semaphore(100)

        async def one(i):
            async with semaphore:
                return await probe(i)

        return await asyncio.gather(*(one(i) for i in range(count)))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = asyncio.run(main())
    return time.process_time() - cpu0, time.perf_counter() - wall0, sum(results)


def ours(farm):
    from backhaul.plugins.poller.snmp_icmp import snmp_get

    async def probe(i):
        result = await snmp_get(farm.host, farm.port, farm.community(i), OIDS, 5.0)
        return len(result.values)
    return probe


def pysnmp_hlapi(farm):
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    engines = {}

    async def probe(i):
        loop = asyncio.get_running_loop()
        engine = engines.setdefault(id(loop), SnmpEngine())
        target = await UdpTransportTarget.create((farm.host, farm.port), timeout=5, retries=1)
        err, status, _index, binds = await get_cmd(
            engine, CommunityData(farm.community(i), mpModel=1), target, ContextData(),
            *[ObjectType(ObjectIdentity(o)) for o in OIDS.values()])
        return 0 if err or status else len(binds)
    return probe


def run_service_path(farm, count: int) -> dict:
    """The poll as the service does it (targets from the database, probes, write_batch),
    two cycles (the second turns counters into rates); CPU of this process."""
    with common.throwaway_database("bh_bench_poller") as url:
        app = common.make_app(url, PLUGINS=["billing", "network", "poller"])
        common.migrate(app)
        try:
            with app.app_context():
                return _service_cycles(app, farm, count)
        finally:
            common.dispose(app)


def _service_cycles(app, farm, count: int) -> dict:
    from backhaul.plugins.network.models import Device
    from backhaul.plugins.poller import service
    from backhaul.plugins.poller.loop import PollLoop
    from backhaul.plugins.poller.models import Sample
    from backhaul.plugins.poller.targets import load_targets
    from backhaul.sdk import db

    info = common.machine(db.engine)
    devices = [Device(name=f"radio-{i}", backend="testkit.directory", host=farm.host,
                      role="radio") for i in range(count)]
    db.session.add_all(devices)
    db.session.flush()
    oids = [{"name": n, "oid": o, "type": "string" if n == "descr" else
             "gauge" if n == "uptime" else "counter"} for n, o in OIDS.items()]
    for i, device in enumerate(devices):
        tpl = service.save_template({"name": f"radio {i}", "icmp_enabled": False,
                                     "snmp_enabled": True, "snmp_community": farm.community(i),
                                     "snmp_port": farm.port, "snmp_timeout": 5.0,
                                     "oids": oids})
        service.apply_template(tpl.id, "device", str(device.id))
    db.session.commit()
    cycles = []
    for _ in range(2):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        targets = load_targets()
        db.session.commit()

        async def cycle(targets=targets):
            loop = PollLoop(concurrency=100)
            loop.tick(targets, now=0.0)
            await loop.drain()
            return loop

        loop = asyncio.run(cycle())
        probe_cpu = time.process_time() - cpu0
        loop.flush()
        cycles.append((time.process_time() - cpu0, time.perf_counter() - wall0, probe_cpu))
    samples = db.session.scalar(sa.select(sa.func.count()).select_from(Sample))
    return {"cycles": cycles, "samples": samples, "machine": info}


def measure(scale_name: str) -> dict:
    from backhaul.sdk.testing.snmpsim import AgentFarm

    if not shutil.which("snmpget") or not shutil.which("snmpbulkget"):
        raise common.BenchError("net-snmp's tools are missing: apt-get install snmp")
    agents, sample = SIZES[scale_name]
    folder = Path(tempfile.mkdtemp(prefix="bh-bench-snmpsim-"))
    farm = AgentFarm(folder, agents, records).start()
    try:
        rows = {}
        run_probe(farm, 1, pysnmp_hlapi(farm))  # pysnmp's one-off MIB and compiler loading
        for label, runner in (("snmpget", lambda: run_netsnmp(farm, "snmpget")),
                              ("snmpbulkget", lambda: run_netsnmp(farm, "snmpbulkget")),
                              ("ours", lambda: run_probe(farm, agents, ours(farm))),
                              ("pysnmp", lambda: run_probe(farm, sample, pysnmp_hlapi(farm)))):
            runs = [runner() for _ in range(3 if label != "pysnmp" else 1)]
            rows[label] = min(runs, key=lambda r: r[0])  # least disturbed of the runs
        rows["service"] = run_service_path(farm, agents)
    finally:
        farm.stop()
        shutil.rmtree(folder, ignore_errors=True)
    rows["agents"], rows["sample"] = agents, sample
    return rows


def report(rows: dict, scale_name: str) -> str:
    agents = rows["agents"]
    info = rows["service"]["machine"]
    base = rows["snmpget"][2] / rows["snmpget"][0]
    lines = [f"## Poller: SNMP values per core against snmpsim (`bench/{NAME}.py`)", "",
             common.machine_lines(info, scale_name) + " snmpsim 1.2.2 (one process, the "
             "agents' side, not counted); net-snmp tools of Debian's `snmp` package.", "",
             f"**{agents} simulated agents x {len(OIDS)} values** (sysDescr, sysUpTime, "
             f"{IFACES} ifHCInOctets); CPU of the reader only; best of 3 runs (1 for pysnmp's "
             "hlapi). Goal (issue 17): at least 1/3 of net-snmp's values per core.", "",
             "| path | agents | values read | CPU s | wall s | values per CPU-second | "
             "vs snmpget |", "|---|---:|---:|---:|---:|---:|---:|"]
    names = {"snmpget": "net-snmp `snmpget`, a process per agent (1.00x)",
             "snmpbulkget": "net-snmp `snmpbulkget` (GET + GETBULK), a process per agent",
             "ours": "poller probe `snmp_get` (own BER, one socket, 100 in flight)",
             "pysnmp": "pysnmp 7 hlapi `get_cmd` (the previous probe)"}
    for key, label in names.items():
        cpu, wall, values = rows[key]
        count = rows["sample"] if key == "pysnmp" else agents
        lines.append(f"| {label} | {count} | {values:,} | {cpu:.2f} | {wall:.2f} | "
                     f"{common.fmt(values / cpu)} | {values / cpu / base:.2f}x |")
    lines += ["", "**The service's poll** (targets loaded from PostgreSQL, probes, "
              "`write_batch`: counters to rates, state, samples; two cycles, the second "
              "with rates):", "",
              "| cycle | CPU s (probes) | CPU s (total) | wall s | CPU ms per device | "
              "cores for 5,000 devices / 5 min |", "|---|---:|---:|---:|---:|---:|"]
    for n, (cpu, wall, probe_cpu) in enumerate(rows["service"]["cycles"], 1):
        per = cpu / agents
        lines.append(f"| {n} | {probe_cpu:.2f} | {cpu:.2f} | {wall:.2f} | {per * 1000:.2f} "
                     f"| {per * 5000 / 300:.3f} |")
    ours_ratio = rows["ours"][2] / rows["ours"][0] / base
    worst = max(c[0] for c in rows["service"]["cycles"]) / agents * 5000 / 300
    lines += ["", f"**Reading.** The poller's probe reads {ours_ratio:.1f}x net-snmp's "
              "`snmpget` values per CPU-second (goal: at least 0.33x). Most of a net-snmp "
              "tool's CPU is starting a process and loading its configuration, which a "
              "script polling device by device pays every time; the probe keeps one socket "
              "and encodes and decodes the few BER types SNMP uses by hand. pysnmp's hlapi, "
              "the previous probe, spends its CPU configuring its local datastore per "
              "community and resolving each OID through its MIB layer. The whole poll, "
              f"database writes included, would need {worst:.3f} of a core for 5,000 devices "
              "on a 5-minute cycle (goal: at most 0.5; PostgreSQL's own CPU is not counted). "
              "The yardstick is net-snmp as a script uses it, a process per device; one "
              "long-lived net-snmp process walking large tables amortises its start-up and "
              "reads far more per CPU-second (FIELD-NOTES: 70-120k values/s). "
              "Wall time is bounded by snmpsim, a single Python process answering every "
              "agent."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench {NAME}")
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    scale_name = common.scale(args.scale)
    body = report(measure(scale_name), scale_name)
    print(body)
    if args.write_results:
        common.write_section(NAME, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
