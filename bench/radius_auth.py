"""RADIUS: ``backhaul serve radius.server`` against FreeRADIUS + rlm_sql on the same database,
the same subscribers and the same load generator, in the same run (issue 13).

Seeds N subscribers (PPPoE logins with addresses and speeds) into a throw-away PostgreSQL
database, writes FreeRADIUS's rlm_sql rows for them (cleartext passwords, so both servers do
the same PAP comparison), then starts both servers on loopback. The load generator keeps
``WINDOW`` requests in flight (one per UDP socket), each a fresh Access-Request for a random
login with Message-Authenticator (built before the clock starts), and records each request's
latency; then the same with Accounting-Request Interim-Updates for open sessions. Both
servers answer every request or the run is refused.
"""
from __future__ import annotations

import argparse
import os
import random
import selectors
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta

from . import common

NAME = "radius_auth"
SIZES = {"small": (1_000, 3_000), "full": (10_000, 20_000)}  # subscribers, requests
WINDOW = 32
SECRET = "bench-nas-secret"


def seed(app, n: int) -> None:
    import sqlalchemy as sa

    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.plugins.radius.freeradius import sync
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    with app.app_context():
        service = catalogue.create_service("Fiber bench", "data", "50.00", currency="USD",
                                           params={"download_mbps": 100, "upload_mbps": 20})
        device = Device(name="bench-bng", backend="bench.none", host="127.0.0.1",
                        vendor="MikroTik", settings={},
                        secrets=encrypt_json({"radius_secret": SECRET}))
        db.session.add(device)
        db.session.flush()
        pool = ipam.create_subnet("100.64.0.0/16", "pppoe", device_id=device.id)
        hosts = ipam.ipaddress.ip_network(pool.cidr).hosts()
        start = date.today() - timedelta(days=1)
        for i in range(n):
            account = create_account(name=f"Radius bench {i}")
            db.session.flush()
            sub = subscriptions.subscribe(account.id, service=service, start_date=start)
            credentials.set_credentials(sub.id, username=f"rb{i:06d}",
                                        password=f"pw-{i:08d}", device_id=device.id)
            ipam.assign(sub.id, pool, str(next(hosts)))
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()
        assert sync() == n
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT count(*) FROM radius_fr_check")) == n


def build_auth(n_subscribers: int, count: int, seed_: int = 13) -> list[bytes]:
    from pyrad import packet as rp

    from backhaul.plugins.radius.dictionary import dictionary

    rng = random.Random(seed_)
    out = []
    for k in range(count):
        i = rng.randrange(n_subscribers)
        pkt = rp.AuthPacket(code=rp.AccessRequest, id=k % 256, secret=SECRET.encode(),
                            dict=dictionary())
        pkt["User-Name"] = f"rb{i:06d}"
        pkt["User-Password"] = pkt.PwCrypt(f"pw-{i:08d}")
        pkt["NAS-IP-Address"] = "127.0.0.1"
        pkt.add_message_authenticator()
        out.append(pkt.RequestPacket())
    return out


def build_acct(n_subscribers: int, count: int, offset: int = 0) -> list[bytes]:
    from pyrad import packet as rp

    from backhaul.plugins.radius.dictionary import dictionary

    out = []
    sessions = min(n_subscribers, 500)
    for k in range(count):
        i = k % sessions
        pkt = rp.AcctPacket(code=rp.AccountingRequest, id=k % 256, secret=SECRET.encode(),
                            dict=dictionary())
        pkt["User-Name"] = f"rb{i:06d}"
        pkt["Acct-Status-Type"] = "Interim-Update"
        pkt["Acct-Session-Id"] = f"bench-{i}"
        pkt["Acct-Input-Octets"] = 1000 * (k + offset + 1)
        pkt["Acct-Output-Octets"] = 5000 * (k + offset + 1)
        pkt["NAS-IP-Address"] = "127.0.0.1"
        pkt["Framed-IP-Address"] = "100.64.0.1"
        out.append(pkt.RequestPacket())
    return out


def drive(port: int, packets: list[bytes], expect_code: set[int]) -> dict:
    """Keep WINDOW requests in flight; returns rate and latency percentiles (ms)."""
    selector = selectors.DefaultSelector()
    socks = []
    for _ in range(WINDOW):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
        selector.register(s, selectors.EVENT_READ)
    latencies, sent_at, next_packet, lost = [], {}, 0, 0
    start = time.perf_counter()
    for s in socks:
        if next_packet < len(packets):
            s.send(packets[next_packet])
            sent_at[s] = time.perf_counter()
            next_packet += 1
    while sent_at:
        events = selector.select(timeout=2.0)
        if not events:  # a lost request: count it and move on
            lost += len(sent_at)
            sent_at.clear()
            break
        for key, _ in events:
            s = key.fileobj
            data = s.recv(4096)
            now = time.perf_counter()
            if data[0] not in expect_code:
                raise common.BenchError(f"unexpected reply code {data[0]}")
            latencies.append((now - sent_at.pop(s)) * 1000)
            if next_packet < len(packets):
                s.send(packets[next_packet])
                sent_at[s] = time.perf_counter()
                next_packet += 1
    elapsed = time.perf_counter() - start
    for s in socks:
        s.close()
    latencies.sort()
    if not latencies:
        raise common.BenchError(f"no reply at all from port {port}")
    return {"requests": len(latencies), "lost": lost, "seconds": elapsed,
            "rate": len(latencies) / elapsed,
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


SERVERS = ("freeradius", "backhaul", "backhaul2", "backhaul_commit")
ROUNDS = 3


def _start_backhaul(app, env_base: dict, log, processes: int, **settings) -> tuple:
    from backhaul.sdk.testing import free_port
    from backhaul.sdk.testing.processes import udp_port_taken

    ports = free_port(), free_port()
    env = {**env_base, "BACKHAUL_PLUGIN_RADIUS__AUTH_PORT": str(ports[0]),
           "BACKHAUL_PLUGIN_RADIUS__ACCT_PORT": str(ports[1]),
           **{f"BACKHAUL_PLUGIN_RADIUS__{k.upper()}": str(v) for k, v in settings.items()}}
    shard = (lambda k: ["--shard", f"{k}/{processes}"]) if processes > 1 else (lambda k: [])
    procs = [subprocess.Popen(["backhaul", "serve", "radius.server", *shard(k)], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
             for k in range(1, processes + 1)]
    for _ in range(300):
        if udp_port_taken(ports[1]):
            break
        time.sleep(0.1)
    return ports, procs


def measure(scale_name: str) -> dict:
    """Every server is started first and stays up; then ``ROUNDS`` rounds, each measuring
    every server in turn (in a rotated order), and each row reports its median round — so
    a burst of load from elsewhere on the machine hits one round of one server, not one
    server's whole result."""
    from pathlib import Path

    from backhaul.plugins import radius
    from backhaul.sdk.testing import app_environ, free_port
    from backhaul.sdk.testing import freeradius as fr_kit

    why = fr_kit.missing()
    if why:
        raise common.BenchError(f"FreeRADIUS is needed: {why}")
    n, count = SIZES[scale_name]
    results: dict = {"subscribers": n, "requests": count, "rounds": ROUNDS}
    with common.throwaway_database("bh_bench_radius") as url:
        app = common.make_app(url, PLUGINS=["billing", "network", "radius"],
                              REDIS_URL=common.redis_url(),
                              PLUGIN_SETTINGS={"radius": {"freeradius_secrets": True}})
        common.migrate(app)
        seed(app, n)
        with app.app_context():
            import sqlalchemy as sa

            from backhaul.sdk import db

            results["machine"] = common.machine(db.engine)
            results["pg_version"] = db.session.scalar(sa.text("SHOW server_version"))
        env = app_environ(app, BACKHAUL_PLUGIN_RADIUS__BIND="127.0.0.1",
                          BACKHAUL_PLUGIN_RADIUS__MAX_PPS_PER_SOURCE="1000000")
        log_path = os.path.join(app.config["INSTANCE_PATH"], "radius.log")
        log = open(log_path, "w")
        started = {"backhaul": _start_backhaul(app, env, log, 1),
                   "backhaul2": _start_backhaul(app, env, log, 2),
                   "backhaul_commit": _start_backhaul(app, env, log, 1,
                                                      accounting_journal="false")}
        fr_ports = free_port(), free_port()
        peer = fr_kit.FreeRadiusPeer(app.config["DATABASE_URL"], *fr_ports,
                                     shipped=Path(radius.__file__).parent / "freeradius_config")
        ports = {who: p for who, (p, _) in started.items()} | {"freeradius": fr_ports}
        rounds: dict = {f"{who}_{kind}": [] for who in SERVERS for kind in ("auth", "acct")}
        sent_to_backhaul = 0  # accounting offsets only grow: every update adds bytes
        try:
            with peer:
                time.sleep(3)  # the two-process server: both listening
                for k, who in enumerate(SERVERS):  # warm-up (fresh packets, not measured)
                    drive(ports[who][0], build_auth(n, 200, seed_=100 + k), {2})
                offset = 0
                for r in range(ROUNDS):
                    order = SERVERS[r % len(SERVERS):] + SERVERS[:r % len(SERVERS)]
                    for who in order:
                        auth = build_auth(n, count, seed_=1000 * r + len(who))
                        acct = build_acct(n, count, offset=offset)
                        offset += count
                        rounds[f"{who}_auth"].append(drive(ports[who][0], auth, {2}))
                        rounds[f"{who}_acct"].append(drive(ports[who][1], acct, {5}))
                        if who != "freeradius":
                            sent_to_backhaul = offset
        except Exception:
            print(open(log_path).read()[-5000:], file=sys.stderr)
            raise
        finally:
            for _, procs in started.values():
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(timeout=30)
        for key, runs in rounds.items():
            runs.sort(key=lambda m: m["rate"])
            results[key] = runs[len(runs) // 2]
        # what Backhaul answered is in the database (the journaled servers included)
        with app.app_context():
            from backhaul.plugins.radius.models import Session

            top = db.session.scalar(sa.select(sa.func.max(Session.input_octets)))
            results["stored"] = top == 1000 * sent_to_backhaul
        common.dispose(app)
    return results


def report(r: dict) -> str:
    info = common.machine_lines(r["machine"], common.scale())
    rows = []
    labels = {"freeradius": "FreeRADIUS 3 + rlm_sql (baseline)",
              "backhaul": "`backhaul serve radius.server` (one process)",
              "backhaul2": "`backhaul serve radius.server` (two processes)",
              "backhaul_commit": "`backhaul serve radius.server` (one process, "
                                 "`accounting_journal = false`)"}
    for kind in ("auth", "acct"):
        base = r[f"freeradius_{kind}"]
        for who in SERVERS:
            if kind == "auth" and who == "backhaul_commit":
                continue  # the same path as "one process" for authentication
            m = r[f"{who}_{kind}"]
            rows.append(f"| {'Access-Request' if kind == 'auth' else 'Accounting Interim'} | "
                        f"{labels[who]} | {m['rate']:,.0f} | {m['rate'] / base['rate']:.2f}x | "
                        f"{m['p50']:.2f} | {m['p99']:.2f} | {m['lost']} |")
    return f"""## RADIUS: Backhaul's server against FreeRADIUS + SQL (`bench/radius_auth.py`)

{info}

**{r['subscribers']:,} subscribers** in PostgreSQL {r['pg_version']}, **{r['requests']:,}
requests** per measurement, {WINDOW} in flight from one load generator on the same machine
(fresh packets with Message-Authenticator, PAP against a cleartext password on both sides;
random logins; accounting: Interim-Updates for 500 open sessions). All servers run side by
side; {r['rounds']} rounds measure each in turn (rotated order) and each row is its median
round. After the run, every accounting update Backhaul answered is in the database:
**{'yes' if r['stored'] else 'NO'}**.

| request | server | req/s | vs FreeRADIUS | p50 ms | p99 ms | lost |
|---|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

**Reading.** Backhaul answers Access-Requests from memory (NASes and subscribers cached,
invalidated through the database once a second), where FreeRADIUS runs two SQL queries per
request (check and reply rows). For accounting, FreeRADIUS answers after its UPDATE of
radacct commits; Backhaul (by default) answers once the update is `fdatasync`'d to its local
journal and commits behind in batches — the design of FreeRADIUS's own detail file +
buffered-sql, which this baseline does not use; the `accounting_journal = false` row answers
after the commit, like the baseline. The load generator, the servers and PostgreSQL share
the machine's cores.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--subscribers", type=int, help="override the scale (debugging)")
    parser.add_argument("--requests", type=int)
    args = parser.parse_args(argv)
    if args.scale:
        os.environ["BENCH_SCALE"] = args.scale
    if args.subscribers:
        SIZES[common.scale(args.scale)] = (args.subscribers, args.requests or 1000)
    results = measure(common.scale(args.scale))
    text = report(results)
    print(text)
    if args.write_results:
        common.write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
