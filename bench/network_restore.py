"""From a payment's commit to the router: how long a paying tenant waits to be back online
(issue 12).

N tenants on one (simulated, real protocol) RouterOS router are made delinquent the way
billing does it (an unpaid invoice past its grace period, the nightly run), and their PPP
secrets are disabled on the router by the jobs. Then, one after the other, each tenant pays
the invoice in full (``ledger.record_payment`` + commit, as the office or a gateway does):
billing's consequences clear the delinquency in that transaction, the network plugin's
handler enqueues a reconcile of that one service, and a real ``backhaul worker`` process
(RQ over Redis) applies it through librouteros. The clock runs from the commit's return to
the moment the router holds the secret enabled again. Baseline in the same run: the same
one-service reconcile called directly, synchronously (no payment, no queue, no worker).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta

from . import common

NAME = "network_restore"
COUNTS = {"small": 50, "full": 200}


def _wait(predicate, timeout: float, step: float = 0.001) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise common.BenchError("the router did not change in time")
        time.sleep(step)
    return time.perf_counter()


def measure(scale_name: str) -> dict:
    import sqlalchemy as sa

    from backhaul.sdk.testing import app_environ
    from backhaul.sdk.testing.routeros import RouterOSSimulator

    n = COUNTS[scale_name]
    out: dict = {"tenants": n}
    with common.throwaway_database("bh_bench_restore") as url, \
            RouterOSSimulator(password="bench-pass") as router:
        app = common.make_app(url, PLUGINS=["billing", "network", "network_mikrotik"],
                              REDIS_URL=common.redis_url(),
                              PLUGIN_SETTINGS={"billing": {"grace_days": 5, "due_days": 14}})
        common.migrate(app)
        worker = subprocess.Popen(["backhaul", "worker"], env=app_environ(app),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with app.app_context():
                from backhaul.plugins.billing import catalogue, delinquency, ledger, run
                from backhaul.plugins.billing import subscriptions as subs
                from backhaul.plugins.billing.models import Invoice
                from backhaul.plugins.network import credentials
                from backhaul.plugins.network.models import Device
                from backhaul.plugins.network.reconcile import reconcile
                from backhaul.sdk import db
                from backhaul.sdk.accounts import create_account
                from backhaul.sdk.instances import encrypt_json

                out["machine"] = common.machine(db.engine)
                service = catalogue.create_service("Fiber", "data", "40.00", currency="USD",
                                                   params={"download_mbps": 100,
                                                           "upload_mbps": 20})
                device = Device(name="tower", backend="mikrotik.routeros", host="127.0.0.1",
                                port=router.port, username="admin",
                                secrets=encrypt_json({"password": "bench-pass"}),
                                settings={"timeout": 5})
                db.session.add(device)
                db.session.flush()
                month = (date.today() - timedelta(days=40)).replace(day=1)
                tenants = []
                for i in range(n):
                    account = create_account(name=f"Restore {i}")
                    db.session.flush()
                    sub = subs.subscribe(account.id, service=service, start_date=month)
                    credentials.set_credentials(sub.id, username=f"rs{i:05d}",
                                                password=f"pw-{i:08d}", device_id=device.id)
                    tenants.append((account.id, sub.id, f"rs{i:05d}"))
                db.session.commit()
                run.run_billing(month)
                db.session.commit()
                result = delinquency.run_nightly(date.today())
                db.session.commit()
                if result.get("delinquent") != n:
                    raise common.BenchError(f"expected {n} delinquent accounts: {result}")

                def secret(name):
                    found = router.find("/ppp/secret", name=name)
                    return found[0] if found else None

                def suspended(name):
                    s = secret(name)
                    return s is not None and s.get("disabled") == "true"

                _wait(lambda: all(suspended(t[2]) for t in tenants), timeout=300, step=0.05)

                def queue_drained():  # the delinquency's own follow-up jobs are done too
                    busy = db.session.scalar(sa.text(
                        "SELECT count(*) FROM core_job WHERE status NOT IN ('done', 'failed')"))
                    db.session.rollback()
                    return busy == 0

                _wait(queue_drained, timeout=300, step=0.2)
                latencies, direct = [], []
                for account_id, _sub_id, name in tenants:
                    invoice = db.session.scalar(sa.select(Invoice).where(
                        Invoice.account_id == account_id))
                    amount = f"{invoice.total_amount / 100:.2f}"
                    ledger.record_payment(account_id, amount, method="cash", invoice=invoice)
                    db.session.commit()
                    committed = time.perf_counter()
                    done = _wait(lambda name=name: secret(name).get("disabled") == "false",
                                 timeout=30)
                    latencies.append((done - committed) * 1000)
                # the floor: the same one-service reconcile, called directly (suspend, then
                # restore by hand on a few, timing the restoring reconcile)
                from backhaul.sdk.accounts import Account, set_status

                for account_id, sub_id, name in tenants[:20]:
                    account = db.session.get(Account, account_id)
                    set_status(account, "delinquent", reason="bench")
                    db.session.commit()
                    _wait(lambda name=name: suspended(name), timeout=30)
                    set_status(account, "active", reason="bench")
                    start = time.perf_counter()
                    reconcile(device.id, only={sub_id})
                    direct.append((time.perf_counter() - start) * 1000)
                    db.session.commit()
        finally:
            worker.terminate()
            worker.wait(timeout=20)
            common.dispose(app)
    out["slow"] = [(i + 1, round(ms)) for i, ms in enumerate(latencies) if ms > 1000]
    latencies.sort()
    out["median"] = statistics.median(latencies)
    out["p99"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    out["max"] = latencies[-1]
    out["direct"] = statistics.median(direct)
    return out


def report(r: dict) -> str:
    info = common.machine_lines(r["machine"], common.scale())
    return f"""## Payment to router: restore latency (`bench/network_restore.py`)

{info}

**{r['tenants']} delinquent tenants** on one RouterOS router (the simulator, real API
protocol, librouteros), each paying its invoice in full in turn; the clock runs from the
payment's `commit()` returning to the router holding the PPP secret enabled again, through a
real `backhaul worker` (RQ over Redis).

| path | median ms | p99 ms | max ms | vs direct |
|---|---:|---:|---:|---:|
| direct one-service reconcile (baseline: no payment, queue or worker) | {r['direct']:.1f} | — | — | 1.00x |
| payment commit → job → worker → router | {r['median']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['median'] / r['direct']:.2f}x |

Payments that took over a second (payment number, ms): {r['slow'] or 'none'}.

**Reading.** The difference between the two rows is the price of doing it outside the
request: the outbox push at commit, the worker picking the job from Redis, its own database
reads of the desired state, and the router round trips (one read of each menu for that
subscriber, the writes pipelined). Outliers are the worker busy with other jobs (each payment
also queues billing's own follow-ups) on a machine that runs the database, Redis, the worker,
the router simulator and the benchmark on its cores.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    if args.scale:
        import os

        os.environ["BENCH_SCALE"] = args.scale  # the report names the scale it ran
    results = measure(common.scale(args.scale))
    text = report(results)
    print(text)
    if args.write_results:
        common.write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
