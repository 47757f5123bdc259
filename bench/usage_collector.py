"""Usage: the NetFlow collector's throughput end to end — decode, attribute, roll up,
persist — per core, and its loss under an offered rate, beside nfdump's nfcapd receiving the
same replay in the same run (issue 16).

Seeds N data services holding addresses in 100.64.0.0/16 (plus traffic of unknown
addresses), builds NetFlow v5 datagrams (30 flows each, both directions, the current hour)
before any clock starts, then:

1. **in process** — the collector's own ``Pipeline`` fed every datagram and flushed every
   50,000 flows (the service writes a batch about once a second, and a bigger one while its
   writer is busy: one second at the offered rate), timed by CPU time: flows per
   CPU-second is flows per core;
2. **over UDP** — ``backhaul serve usage.collector`` (a real process) receives the datagrams
   paced at ``RATE`` flows/s for ``SECONDS``; loss = flows sent minus flows rolled up
   (attributed bytes plus unattributed bytes checked against the bytes sent);
3. **nfcapd** (when installed) receives the same paced replay; its flows are counted with
   ``nfdump -I``.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from datetime import UTC, datetime

from . import common

NAME = "usage_collector"
#: subscribers, datagrams for the in-process run, offered flows/s, seconds offered
SIZES = {"small": (2_000, 2_000, 50_000, 10), "full": (10_000, 10_000, 50_000, 60)}
FLOWS_PER_PACKET = 30
#: flows per batch in the in-process run: one second at the offered 50,000 flows/s
BATCH = 50_000


def seed(app, n: int) -> list[str]:
    """``n`` services (subscription ids 1..n; attribution reads only the address history)
    each holding one address since 2020, written in bulk: the bench measures the collector,
    not the allocation."""
    import sqlalchemy as sa

    from backhaul.plugins.network import ipam
    from backhaul.plugins.network.models import Assignment
    from backhaul.sdk import db

    with app.app_context():
        subnet = ipam.create_subnet("100.64.0.0/16", "pppoe")
        db.session.flush()
        addresses = [f"100.64.{(i + 1) // 250}.{(i + 1) % 250 + 1}" for i in range(n)]
        since = datetime(2020, 1, 1, tzinfo=UTC)
        db.session.execute(sa.insert(Assignment.__table__), [
            {"subnet_id": subnet.id, "subscription_id": i + 1, "address": a,
             "valid_from": since} for i, a in enumerate(addresses)])
        db.session.commit()
        return addresses


def build_v5(addresses: list[str], count: int, seed_: int = 16) -> list[bytes]:
    """``count`` v5 datagrams of 30 flows (one in 20 of an unknown address)."""
    rng = random.Random(seed_)
    now = int(time.time())
    uptime = 10_000_000
    packets = []
    for seq in range(count):
        head = struct.pack("!HHIIIIBBH", 5, FLOWS_PER_PACKET, uptime, now, 0,
                           seq * FLOWS_PER_PACKET, 0, 0, 0)
        body = []
        for _ in range(FLOWS_PER_PACKET):
            local = (f"100.65.{rng.randrange(250)}.{rng.randrange(1, 250)}"
                     if rng.random() < 0.05 else rng.choice(addresses))
            remote = f"198.51.100.{rng.randrange(1, 250)}"
            src, dst = (local, remote) if rng.random() < 0.3 else (remote, local)
            octets = rng.randrange(64, 1_500_000)
            body.append(socket.inet_aton(src) + socket.inet_aton(dst) + bytes(8)
                        + struct.pack("!IIII", 10, octets, uptime - 9000, uptime - 1000)
                        + bytes(16))
        packets.append(head + b"".join(body))
    return packets


def in_process(app, packets) -> dict:
    from backhaul.plugins.usage.collector import Pipeline
    from backhaul.sdk import current_plugin_settings

    with app.app_context():
        pipeline = Pipeline(current_plugin_settings("usage"))
        wall, cpu = time.perf_counter(), time.process_time()
        for data in packets:
            pipeline.feed(data, "127.0.0.1")
            if pipeline.pending_count >= BATCH:
                pipeline.flush()
        pipeline.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        flows = pipeline.stats["flows"]
        return {"flows": flows, "wall": wall, "cpu": cpu, "per_core": flows / cpu,
                "lookups": pipeline.attributor.lookups,
                "errors": pipeline.stats["flush_errors"]}


def pace(port: int, packets, rate: int, seconds: float) -> dict:
    """Send datagrams (cycled) at ``rate`` flows/s for ``seconds``; returns what was sent."""
    per_second = max(1, rate // FLOWS_PER_PACKET)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        start = time.perf_counter()
        sent = 0
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            due = min(int(elapsed * per_second) + 1, int(seconds * per_second))
            while sent < due:
                sock.sendto(packets[sent % len(packets)], ("127.0.0.1", port))
                sent += 1
            time.sleep(0.001)
    return {"packets": sent, "flows": sent * FLOWS_PER_PACKET,
            "seconds": time.perf_counter() - start}


def _rolled_up(app) -> int:
    import sqlalchemy as sa

    from backhaul.plugins.usage.models import Hourly, Unattributed
    from backhaul.sdk import db

    with app.app_context():
        attributed = db.session.scalar(sa.select(
            sa.func.coalesce(sa.func.sum(Hourly.bytes_down + Hourly.bytes_up), 0)))
        unknown = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
            Unattributed.bytes), 0)))
        db.session.remove()
        return int(attributed) + int(unknown)


def _reset(app) -> None:
    from backhaul.plugins.usage.models import Daily, Hourly, Unattributed
    from backhaul.sdk import db

    with app.app_context():
        for model in (Hourly, Daily, Unattributed):
            db.session.execute(model.__table__.delete())
        db.session.commit()


def over_udp(app, packets, rate, seconds) -> dict:
    from backhaul.sdk.testing import app_environ, free_port

    _reset(app)
    port = free_port()
    env = app_environ(app, BACKHAUL_PLUGIN_USAGE__BIND="127.0.0.1",
                      BACKHAUL_PLUGIN_USAGE__NETFLOW_PORT=str(port))
    proc = subprocess.Popen(["backhaul", "serve", "usage.collector"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(4)  # start-up (imports, app, templates)
        cpu_before = _cpu(proc.pid)
        sent = pace(port, packets, rate, seconds)
        expected = sum(_bytes_of(p) for p in _cycle(packets, sent["packets"]))
        drain_start = time.monotonic()
        deadline = drain_start + 30
        got = 0
        while time.monotonic() < deadline:
            got = _rolled_up(app)
            if got >= expected:
                break
            time.sleep(0.5)
        drain = time.monotonic() - drain_start
        cpu = _cpu(proc.pid) - cpu_before
        kernel_drops = _udp_drops(port)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {**sent, "bytes_sent": expected, "bytes_rolled_up": got,
            "loss": 1 - got / expected if expected else 0.0, "cpu": cpu,
            "kernel_drops": kernel_drops, "drain": drain}


def _udp_drops(port: int) -> int | None:
    """Datagrams the kernel dropped on the socket bound to ``port`` (its receive buffer
    was full: the process did not read fast enough), from ``/proc/net/udp``."""
    try:
        with open("/proc/net/udp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if int(parts[1].split(":")[1], 16) == port:
                    return int(parts[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cycle(packets, count):
    for i in range(count):
        yield packets[i % len(packets)]


def _bytes_of(packet: bytes) -> int:
    count = struct.unpack_from("!H", packet, 2)[0]
    return sum(struct.unpack_from("!I", packet, 24 + 48 * i + 20)[0] for i in range(count))


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nfcapd(packets, rate, seconds) -> dict | None:
    if shutil.which("nfcapd") is None or shutil.which("nfdump") is None:
        return None
    from backhaul.sdk.testing import free_port

    port = free_port()
    folder = tempfile.mkdtemp(prefix="bh-nfcapd-")
    proc = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(port), "-w", folder],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        cpu_before = _cpu(proc.pid)
        sent = pace(port, packets, rate, seconds)
        time.sleep(1.0)
        cpu = _cpu(proc.pid) - cpu_before
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    out = subprocess.run(["nfdump", "-R", folder, "-I"], capture_output=True, text=True,
                         timeout=120).stdout
    flows = next((int(line.split(":")[1]) for line in out.splitlines()
                  if line.startswith("Flows:")), 0)
    shutil.rmtree(folder, ignore_errors=True)
    return {**sent, "received": flows, "loss": 1 - flows / sent["flows"], "cpu": cpu}


def measure(scale_name: str) -> dict:
    n, count, rate, seconds = SIZES[scale_name]
    results: dict = {"subscribers": n, "datagrams": count, "rate": rate, "seconds": seconds}
    with common.throwaway_database("bh_bench_usage") as url:
        app = common.make_app(url, PLUGINS=["billing", "network", "usage"],
                              PLUGIN_SETTINGS={"usage": {"thresholds": ""}})
        common.migrate(app)
        try:
            addresses = seed(app, n)
            packets = build_v5(addresses, count)
            with app.app_context():
                from backhaul.sdk import db

                results["machine"] = common.machine(db.engine)
            results["in_process"] = in_process(app, packets)
            results["udp"] = over_udp(app, packets, rate, seconds)
            results["load_after"] = f"{os.getloadavg()[0]:.2f}"
            results["nfcapd"] = nfcapd(packets, rate, seconds)
        finally:
            common.dispose(app)
    return results


def report(results: dict, scale_name: str) -> str:
    ip, udp, nf = results["in_process"], results["udp"], results["nfcapd"]
    lines = ["## Usage: NetFlow collector vs nfcapd (`bench/usage_collector.py`, issue 16)", "",
             common.machine_lines(results["machine"], scale_name), "",
             f"{results['subscribers']:,} services holding addresses; NetFlow v5, 30 flows a "
             "datagram, 1 in 20 flows of an unknown address.", "",
             f"The in-process run writes a batch every {BATCH:,} flows. Load average at the end "
             f"of the UDP run: {results.get('load_after', '?')}.", "",
             "| run | flows | seconds | CPU s | flows per CPU-second | loss |",
             "|---|---:|---:|---:|---:|---:|",
             f"| Backhaul in process (decode, attribute, roll up, commit) | {ip['flows']:,} | "
             f"{common.fmt(ip['wall'], 2)} | {common.fmt(ip['cpu'], 2)} | "
             f"{common.fmt(ip['per_core'])} | — |",
             f"| `backhaul serve usage.collector`, {results['rate']:,} flows/s offered | "
             f"{udp['flows']:,} | {common.fmt(udp['seconds'], 1)} | {common.fmt(udp['cpu'], 2)} "
             f"| {common.fmt(udp['flows'] * (1 - udp['loss']) / udp['cpu'] if udp['cpu'] else 0)} | "
             f"{udp['loss'] * 100:.2f}% |"]
    if nf:
        lines.append(f"| nfcapd (nfdump), same replay | {nf['flows']:,} | "
                     f"{common.fmt(nf['seconds'], 1)} | {common.fmt(nf['cpu'], 2)} | "
                     f"{common.fmt(nf['received'] / nf['cpu'] if nf['cpu'] else 0)} | "
                     f"{nf['loss'] * 100:.2f}% |")
    else:
        lines.append("| nfcapd | not installed (Debian `nfdump`) | | | | |")
    if udp.get("kernel_drops") is not None:
        lines += ["", f"Datagrams the kernel dropped at the collector's socket (receive buffer "
                      f"full): {udp['kernel_drops']:,} of {udp['packets']:,}. The collector "
                      f"got {udp['cpu']:.1f} CPU-seconds over the {udp['seconds'] + udp['drain']:.0f} s "
                      "it had (sending plus draining): with no datagram dropped by the kernel, "
                      "its loss is flows still queued in the process (not yet rolled up) when "
                      "the run ended — a CPU-starved process on a loaded machine falls behind "
                      "where it would keep up with a free core (the per-CPU-second figure)."]
    lines += ["", "Flows per CPU-second counts the flows processed (sent minus lost). Loss for Backhaul is bytes sent minus bytes rolled up (attributed plus "
              "unattributed); for nfcapd, flows sent minus flows stored (`nfdump -I`)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench {NAME}")
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    scale_name = common.scale(args.scale)
    results = measure(scale_name)
    body = report(results, scale_name)
    print(body)
    if args.write_results:
        common.write_section(NAME, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
