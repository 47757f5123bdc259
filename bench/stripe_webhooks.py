"""Stripe webhooks through billing's route: what verification, deduplication and the route
cost on top of recording the payment itself.

N tenants each pay 55.00 at a Stripe checkout (the simulator, real client); the N signed
``payment_intent.succeeded`` events are posted to ``/billing/gateways/stripe/webhook``
(Flask's test client: no network), then all N again (duplicates). Baseline in the same run:
the same N payments recorded directly through billing's ``record_payment_outcome`` (no
HTTP, no signature, no event table), on a twin set of tenants.
"""
from __future__ import annotations

import argparse
import sys

from . import common

NAME = "stripe_webhooks"
COUNTS = {"small": 300, "full": 2000}


def measure(scale_name: str) -> dict:
    import sqlalchemy as sa

    from backhaul.sdk.testing.stripe_sim import StripeSimulator

    n = COUNTS[scale_name]
    out: dict = {"events": n}
    pk, sk, wh = "pk_test_bench00000001", "sk_test_bench00000001", "whsec_bench00000001"
    with common.throwaway_database("bh_bench_stripe") as url, \
            StripeSimulator(secret_key=sk, publishable_key=pk, webhook_secret=wh) as sim:
        app = common.make_app(url, PLUGINS=["billing", "payments_stripe"])
        common.migrate(app)
        try:
            with app.app_context():
                from backhaul.plugins.billing.api import record_payment_outcome
                from backhaul.plugins.billing.models import Payment
                from backhaul.sdk import Customer, Money, db, registered
                from backhaul.sdk.accounts import create_account
                from backhaul.sdk.instances import save_instance

                save_instance("payment_gateways", "stripe", owner="payments_stripe",
                              name="Stripe", settings={"publishable_key": pk, "secret_key": sk,
                                                       "webhook_secret": wh,
                                                       "api_base": sim.url})
                route_ids = [create_account(name=f"R{i}").id for i in range(n)]
                direct_ids = [create_account(name=f"D{i}").id for i in range(n)]
                db.session.commit()
                gateway = registered("payment_gateways")["stripe"]
                for account_id in route_ids:
                    gateway.start_checkout(Money(5500, "USD"), Customer(account_id),
                                           idempotency_key=f"b:{account_id}",
                                           method_ref="pm_card_visa")
                db.session.commit()
                events = [e for e in sim.events if e["type"] == "payment_intent.succeeded"]
                signed = [sim.signed(e) for e in events]
                client = app.test_client()

                def post_all():
                    for headers, body in signed:
                        answer = client.post("/billing/gateways/stripe/webhook", data=body,
                                             headers=headers)
                        assert answer.status_code == 200, answer.get_data(as_text=True)

                out["route"], _ = common.timed(post_all)
                out["replay"], _ = common.timed(post_all)

                def direct():
                    for i, account_id in enumerate(direct_ids):
                        record_payment_outcome("stripe", f"direct:{i}", "processed",
                                               reference=f"pi_direct_{i}",
                                               account_id=account_id,
                                               amount=Money(5500, "USD"), method="card")

                out["direct"], _ = common.timed(direct)
                out["payments"] = db.session.scalar(sa.select(sa.func.count(Payment.id)))
                out["machine"] = common.machine(db.engine)
        finally:
            common.dispose(app)
    if out["payments"] != 2 * n:
        raise common.BenchError(f"{out['payments']} payments recorded, expected {2 * n}")
    return out


def report(r: dict) -> str:
    info = common.machine_lines(r["machine"], common.scale())
    n, direct = r["events"], r["direct"]
    rows = [("direct `record_payment_outcome` (baseline)", direct),
            ("signed webhook through the route (first delivery)", r["route"]),
            ("the same webhooks again (duplicates, acknowledged)", r["replay"])]
    table = "\n".join(f"| {label} | {common.fmt(common.rate(n, s))} | {s / direct:.2f}x |"
                      for label, s in rows)
    return f"""## Stripe webhooks (`bench/stripe_webhooks.py`)

{info}

**{n} `payment_intent.succeeded` events** (one per tenant, from the Stripe simulator),
posted to `/billing/gateways/stripe/webhook` through Flask's test client; then all of them
again. Baseline: the same number of payments recorded by `record_payment_outcome` directly.

| path | events/s | time vs baseline |
|---|---:|---:|
{table}

**Reading.** The route adds the signature check (HMAC and the replay window), reading the
Stripe account's sealed settings, the event row that makes each event count once, and the
request itself; a duplicate costs the signature check and one indexed lookup.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=common.SCALES, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    if args.scale:
        import os

        os.environ["BENCH_SCALE"] = args.scale
    results = measure(common.scale(args.scale))
    text = report(results)
    print(text)
    if args.write_results:
        common.write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
