"""Desired state of one device with thousands of subscribers: computed in a constant number
of SQL statements, against a naive per-subscriber loop measured in the same run (issue 12).

For each size: seed that many data services on one device (accounts, subscriptions,
credentials, addresses), then time ``desired_state`` + render + ``diff`` against the device's
actual state with 1 % drift, counting statements; the naive loop asks the database per
subscriber (its subscription, its account's status, its address), as a first version would.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta

from . import common

NAME = "network_desired"
SIZES = {"small": (500, 2000), "full": (1000, 5000)}
NAIVE_SAMPLE = 200


def seed(app, n: int) -> int:
    import sqlalchemy as sa

    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account

    with app.app_context():
        service = catalogue.create_service("Fiber bench", "data", "50.00", currency="USD",
                                           params={"download_mbps": 100, "upload_mbps": 20})
        device = Device(name="bench-router", backend="testkit.directory", settings={},
                        secrets="")
        db.session.add(device)
        db.session.flush()
        pool = ipam.create_subnet("100.64.0.0/18", "pppoe", device_id=device.id)
        start = date.today() - timedelta(days=1)
        hosts = [str(h) for h in ipam.ipaddress.ip_network(pool.cidr).hosts()][:n]
        for i in range(n):
            account = create_account(name=f"Bench tenant {i}")
            db.session.flush()
            sub = subscriptions.subscribe(account.id, service=service, start_date=start)
            credentials.set_credentials(sub.id, username=f"bench{i:06d}",
                                        password=f"pw-{i:08d}", device_id=device.id)
            ipam.assign(sub.id, pool, hosts[i])
            if i % 500 == 499:
                db.session.commit()
        db.session.commit()
        device_id = device.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.text("network_credential"))) == n
        return device_id


def real(app, device_id: int) -> tuple[float, int, int]:
    from backhaul.plugins.network.desired import desired_state
    from backhaul.sdk import db
    from backhaul.sdk.provisioning import diff
    from backhaul.sdk.testing.provisioning import DirectoryBackend

    backend = DirectoryBackend()
    with app.app_context():
        with common.StatementCounter(db.engine) as counter:
            started = time.perf_counter()
            state = desired_state(device_id)
            wanted = {s.key: backend.render(state.device, s) for s in state.subscribers}
            actual = {k: dict(v) for k, v in wanted.items()}
            for key in list(actual)[::100]:  # 1 % drift
                actual[key]["rate"] = "1/1"
            changes = diff(wanted, actual, state.by_key())
            elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed, counter.count, len(changes)


def naive(app, device_id: int, sample: int) -> tuple[float, int]:
    """Per subscriber: its subscription, its account's status meaning, its address."""
    import sqlalchemy as sa

    from backhaul.plugins.billing.api import get_subscription
    from backhaul.plugins.network.models import Assignment, Credential
    from backhaul.sdk import db
    from backhaul.sdk.accounts import get_account, status_meaning

    with app.app_context():
        ids = db.session.scalars(sa.select(Credential.subscription_id).where(
            Credential.device_id == device_id).limit(sample)).all()
        with common.StatementCounter(db.engine) as counter:
            started = time.perf_counter()
            for sid in ids:
                sub = get_subscription(sid)
                status_meaning(get_account(sub.account_id))
                db.session.scalar(sa.select(Assignment.address).where(
                    Assignment.subscription_id == sid, Assignment.valid_to.is_(None)))
                db.session.expire_all()
            elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed / len(ids), counter.count / len(ids)


def measure(scale_name: str) -> list[dict]:
    rows = []
    for n in SIZES[scale_name]:
        with common.throwaway_database("bh_bench_network") as url:
            app = common.make_app(url, PLUGINS=["billing", "network"])
            common.migrate(app)
            try:
                started = time.perf_counter()
                device_id = seed(app, n)
                print(f"[network {n}] seeded in {time.perf_counter() - started:.1f}s",
                      flush=True)
                runs = [real(app, device_id) for _ in range(3)]
                seconds = common.median([r[0] for r in runs])
                statements, changes = runs[0][1], runs[0][2]
                per_sub, per_sub_statements = naive(app, device_id, NAIVE_SAMPLE)
                rows.append({"n": n, "seconds": seconds, "statements": statements,
                             "changes": changes, "naive_seconds": per_sub * n,
                             "naive_statements": per_sub_statements * n})
                print(f"[network {n}] desired+diff {seconds:.2f}s, {statements} statements; "
                      f"naive {per_sub * n:.1f}s", flush=True)
            finally:
                common.dispose(app)
    return rows


def report(rows: list[dict]) -> str:
    lines = ["## Network: desired state of one device (issue 12)", "",
             "Desired state + render + diff (1 % drift) for one device, median of 3, against a "
             f"naive per-subscriber loop (measured on {NAIVE_SAMPLE} subscribers, scaled), "
             "PostgreSQL, same run.", "",
             "| subscribers | desired + diff | statements | naive loop * | naive statements | "
             "naive / real |", "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['seconds']:.2f} s | {r['statements']} | "
                     f"{r['naive_seconds']:.1f} s | {r['naive_statements']:,.0f} | "
                     f"{r['naive_seconds'] / r['seconds']:.1f}x |")
    lines += ["", "Statements stay constant as subscribers grow (one query per kind of fact); "
              "the naive loop issues three per subscriber."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(common.scale(args.scale))
    text = report(rows)
    print(text)
    if args.write_results:
        common.write_section(NAME, text)
    return 0 if len({r["statements"] for r in rows}) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
