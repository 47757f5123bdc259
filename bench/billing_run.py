"""Benchmark: the billing run against a pure-SQL insert and a naive per-account loop.

For each size (default 10,000 and 100,000 accounts, three subscription lines each) on a
throw-away PostgreSQL database, the same billing period is invoiced three ways, the data
being reset in between:

(a) **pure SQL** — two ``INSERT ... SELECT`` statements writing the same invoice and line rows
    (the floor: no Python at all, no ledger, no bookkeeping);
(b) **the billing run** — ``run_billing`` as production runs it (snapshots, rating, gap-free
    numbers, ledger rows, billed-through dates, run items, one transaction per chunk);
(c) **naive loop** — one transaction per account with one statement per row, the way a
    straightforward implementation would do it.

It also counts the SQL statements the billing run sends, per account. Targets (issue #6):
(b) within 10x of (a), at least 10x faster than (c), statements per account not growing with
the number of accounts.

    .venv/bin/python bench/billing_run.py                 # 10k and 100k
    .venv/bin/python bench/billing_run.py --sizes 2000    # a quick look
    .venv/bin/python bench/billing_run.py --write-results # also update bench/RESULTS.md

``BACKHAUL_BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1/postgres``) is an
admin URL; a database ``bh_bench_<random>`` is created and dropped for each size.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find bench

PERIOD = date(2026, 3, 1)
RESULTS = Path(__file__).parent / "RESULTS.md"


def _url(admin: str, name: str) -> str:
    url = sa.engine.make_url(admin.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=name).render_as_string(hide_password=False)


class Bench:
    def __init__(self, admin_url: str, size: int, chunk: int):
        self.admin_url, self.size, self.chunk = admin_url, size, chunk
        self.name = f"bh_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(_url(admin_url, "postgres"), isolation_level="AUTOCOMMIT")

    # ------------------------------------------------------------------ set-up and reset
    def __enter__(self):
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        from backhaul.core.app import create_app
        from backhaul.core.migrate import upgrade

        self.app = create_app({"DATABASE_URL": _url(self.admin_url, self.name),
                               "INSTANCE_PATH": tempfile.mkdtemp(prefix="bh-bench-"),
                               "SECRET_KEY": "bench-" + "x" * 40, "PLUGINS": ["billing"],
                               "PLUGIN_SETTINGS": {"billing": {"run_chunk_size": self.chunk}}})
        self.ctx = self.app.app_context()
        self.ctx.push()
        upgrade(self.app)
        return self

    def __exit__(self, *exc):
        from backhaul.sdk import db

        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()
        with self.admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": self.name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()

    def seed(self) -> None:
        from backhaul.plugins.billing import catalogue
        from backhaul.sdk import db
        from backhaul.sdk.accounts import get_status

        catalogue.create_tax_class("standard", "Standard", "10")
        services = [catalogue.create_service("Fiber 100", "data", "50.00", currency="USD",
                                             tax_class="standard",
                                             params={"download_mbps": 100, "upload_mbps": 20}),
                    catalogue.create_service("Home phone", "voice", "15.00", currency="USD",
                                             tax_class="standard"),
                    catalogue.create_service("Maintenance fee", "recurring", "20.00",
                                             currency="USD")]
        status = get_status("active").id
        db.session.execute(sa.text(
            "INSERT INTO core_account (number, name, account_type, status_id, created_at, "
            "updated_at) SELECT 'B' || lpad(g::text, 7, '0'), 'Bench ' || g, 'residential', "
            ":status, now(), now() FROM generate_series(1, :n) g"),
            {"status": status, "n": self.size})
        db.session.execute(sa.text(
            "INSERT INTO billing_account (account_id, currency, billing_day, next_period_start,"
            " tax_exempt, delinquency_excluded, created_at, updated_at) SELECT id, 'USD', 1, "
            ":p, false, false, now(), now() FROM core_account"), {"p": PERIOD})
        for service in services:
            db.session.execute(sa.text(
                "INSERT INTO billing_subscription (account_id, service_id, quantity, start_date,"
                " description, created_at, updated_at) SELECT id, :s, 1, :p, '', now(), now() "
                "FROM core_account"), {"s": service.id, "p": PERIOD})
        db.session.commit()
        self.analyze()

    def analyze(self) -> None:
        from backhaul.sdk import db

        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))

    def reset(self) -> None:
        from backhaul.sdk import db

        db.session.execute(sa.text(
            "TRUNCATE billing_run_item, billing_transaction, billing_allocation, "
            "billing_invoice_line, billing_charge, billing_payment_attempt, billing_invoice, "
            "billing_run, billing_invoice_counter"))
        db.session.execute(sa.text("UPDATE billing_subscription SET billed_through = NULL"))
        db.session.execute(sa.text("UPDATE billing_account SET next_period_start = :p"),
                           {"p": PERIOD})
        db.session.commit()
        self.analyze()

    def counts(self) -> tuple[int, int]:
        from backhaul.sdk import db

        return (db.session.scalar(sa.text("SELECT count(*) FROM billing_invoice")),
                db.session.scalar(sa.text("SELECT count(*) FROM billing_invoice_line")))

    # ------------------------------------------------------------------ the three ways
    def pure_sql(self) -> float:
        from backhaul.sdk import db

        started = time.perf_counter()
        db.session.execute(sa.text("""
            INSERT INTO billing_invoice (account_id, kind, series, number, status, currency,
              issue_date, due_date, period_start, period_end, subtotal_amount, tax_amount,
              total_amount, paid_amount, key, void_reason, memo, finalized_at, created_at,
              updated_at)
            SELECT s.account_id, 'invoice', 'INV', row_number() OVER (ORDER BY s.account_id),
              'finalized', 'USD', :p, :due, :p, :end, sum(v.price_amount),
              sum(round(v.price_amount * coalesce(t.rate, 0) / 100)),
              sum(v.price_amount + round(v.price_amount * coalesce(t.rate, 0) / 100)), 0,
              'period:' || s.account_id || ':' || :p, '', '', now(), now(), now()
            FROM billing_subscription s JOIN billing_service v ON v.id = s.service_id
            LEFT JOIN billing_tax_class t ON t.id = v.tax_class_id
            GROUP BY s.account_id"""),
            {"p": PERIOD, "due": PERIOD + timedelta(days=14), "end": date(2026, 4, 1)})
        db.session.execute(sa.text("""
            INSERT INTO billing_invoice_line (invoice_id, position, kind, description,
              quantity, unit_price_amount, amount, tax_class, tax_rate, tax_amount,
              period_start, period_end, subscription_id, source)
            SELECT i.id, row_number() OVER (PARTITION BY i.id ORDER BY s.id) - 1, 'service',
              v.name || ', 01 Mar 2026 - 31 Mar 2026', 1, v.price_amount, v.price_amount,
              t.key, coalesce(t.rate, 0), round(v.price_amount * coalesce(t.rate, 0) / 100),
              :p, :end, s.id, 'billing'
            FROM billing_subscription s JOIN billing_service v ON v.id = s.service_id
            LEFT JOIN billing_tax_class t ON t.id = v.tax_class_id
            JOIN billing_invoice i ON i.account_id = s.account_id"""),
            {"p": PERIOD, "end": date(2026, 4, 1)})
        db.session.commit()
        return time.perf_counter() - started

    def billing_run(self) -> tuple[float, int]:
        from backhaul.plugins.billing import bulk, checks
        from backhaul.plugins.billing.run import run_billing
        from backhaul.sdk import db

        statements = -bulk.STATS["copy"]  # COPY bypasses SQLAlchemy's events: added below

        def count(*_args, **_kwargs):
            nonlocal statements
            statements += 1

        sa.event.listen(db.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        try:
            result = run_billing(PERIOD, triggered_by="bench")
        finally:
            elapsed = time.perf_counter() - started
            sa.event.remove(db.engine, "before_cursor_execute", count)
            statements += bulk.STATS["copy"]
        assert (result.invoiced, result.failed) == (self.size, 0), result
        problems = checks.problems()
        assert not problems, problems
        return elapsed, statements

    def naive(self, sample: int | None = None) -> float:
        """One transaction per account, one statement per row (``sample``: only the first
        accounts; the caller scales the time, the loop's cost per account being constant)."""
        from backhaul.sdk import db

        engine = db.engine
        with engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT account_id FROM billing_account "
                                       "ORDER BY account_id LIMIT :n"),
                               {"n": sample or self.size}).scalars().all()
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(sa.text("INSERT INTO billing_invoice_counter VALUES ('INV', 1)"))
            conn.commit()
            for account_id in ids:
                subs = conn.execute(sa.text(
                    "SELECT s.id, v.name, v.price_amount, t.key, coalesce(t.rate, 0) "
                    "FROM billing_subscription s JOIN billing_service v ON v.id = s.service_id "
                    "LEFT JOIN billing_tax_class t ON t.id = v.tax_class_id "
                    "WHERE s.account_id = :a ORDER BY s.id"), {"a": account_id}).all()
                number = conn.execute(sa.text(
                    "SELECT next_number FROM billing_invoice_counter WHERE series = 'INV' "
                    "FOR UPDATE")).scalar_one()
                conn.execute(sa.text("UPDATE billing_invoice_counter SET next_number = :n "
                                     "WHERE series = 'INV'"), {"n": number + 1})
                taxes = [round(price * rate / 100) for _, _, price, _, rate in subs]
                net = sum(price for _, _, price, _, _ in subs)
                invoice_id = conn.execute(sa.text("""
                    INSERT INTO billing_invoice (account_id, kind, series, number, status,
                      currency, issue_date, due_date, period_start, period_end,
                      subtotal_amount, tax_amount, total_amount, paid_amount, key,
                      void_reason, memo, finalized_at, created_at, updated_at)
                    VALUES (:a, 'invoice', 'INV', :n, 'finalized', 'USD', :p, :due, :p, :end,
                      :net, :tax, :total, 0, :key, '', '', now(), now(), now())
                    RETURNING id"""), {
                    "a": account_id, "n": number, "p": PERIOD,
                    "due": PERIOD + timedelta(days=14), "end": date(2026, 4, 1), "net": net,
                    "tax": sum(taxes), "total": net + sum(taxes),
                    "key": f"period:{account_id}:{PERIOD}"}).scalar_one()
                for position, ((sid, name, price, tax_key, rate), tax) in enumerate(
                        zip(subs, taxes, strict=True)):
                    conn.execute(sa.text("""
                        INSERT INTO billing_invoice_line (invoice_id, position, kind,
                          description, quantity, unit_price_amount, amount, tax_class,
                          tax_rate, tax_amount, period_start, period_end, subscription_id,
                          source)
                        VALUES (:i, :pos, 'service', :d, 1, :price, :price, :tk, :rate, :tax,
                          :p, :end, :s, 'billing')"""), {
                        "i": invoice_id, "pos": position, "d": f"{name}, 01 Mar 2026",
                        "price": price, "tk": tax_key, "rate": rate, "tax": tax, "p": PERIOD,
                        "end": date(2026, 4, 1), "s": sid})
                    conn.execute(sa.text("UPDATE billing_subscription SET billed_through = :e "
                                         "WHERE id = :s"), {"e": date(2026, 4, 1), "s": sid})
                conn.execute(sa.text(
                    "INSERT INTO billing_transaction (account_id, kind, amount, currency, "
                    "invoice_id, memo, created_at) VALUES (:a, 'invoice', :t, 'USD', :i, '', "
                    "now())"), {"a": account_id, "t": net + sum(taxes), "i": invoice_id})
                conn.execute(sa.text("UPDATE billing_account SET next_period_start = :e "
                                     "WHERE account_id = :a"),
                             {"e": date(2026, 4, 1), "a": account_id})
                conn.commit()
        return time.perf_counter() - started


def measure(admin_url: str, size: int, chunk: int, naive: bool, sample: int) -> dict:
    with Bench(admin_url, size, chunk) as bench:
        t0 = time.perf_counter()
        bench.seed()
        print(f"[{size}] seeded in {time.perf_counter() - t0:.1f}s", flush=True)
        sql = bench.pure_sql()
        assert bench.counts() == (size, 3 * size), bench.counts()
        print(f"[{size}] pure SQL {sql:.2f}s", flush=True)
        bench.reset()
        run_time, statements = bench.billing_run()
        assert bench.counts() == (size, 3 * size), bench.counts()
        print(f"[{size}] billing run {run_time:.2f}s, {statements} statements", flush=True)
        bench.reset()
        loop, sampled = None, min(sample, size)
        if naive:
            loop = bench.naive(sampled) * size / sampled
            assert bench.counts() == (sampled, 3 * sampled), bench.counts()
            print(f"[{size}] naive loop {loop:.2f}s" + (
                f" (measured on {sampled:,} accounts, scaled)" if sampled < size else ""),
                flush=True)
    return {"size": size, "sql": sql, "run": run_time, "naive": loop, "sampled": sampled,
            "statements": statements, "chunk": chunk}


def table(rows: list[dict]) -> str:
    lines = ["| accounts | (a) pure SQL | billing run | (c) naive loop | run / (a) | (c) / run "
             "| statements | per account |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        naive = f"{r['naive']:.1f} s" if r["naive"] is not None else "—"
        if r["naive"] is not None and r["sampled"] < r["size"]:
            naive += " *"
        ratio = f"{r['naive'] / r['run']:.1f}x" if r["naive"] is not None else "—"
        lines.append(f"| {r['size']:,} | {r['sql']:.2f} s | {r['run']:.2f} s | {naive} | "
                     f"{r['run'] / r['sql']:.1f}x | {ratio} | {r['statements']:,} | "
                     f"{r['statements'] / r['size']:.3f} |")
    return "\n".join(lines)


def write_results(rows: list[dict], info: dict, scale_name: str) -> None:
    """Rewrite this benchmark's section of RESULTS.md (``bench.common.write_section``)."""
    from bench import common

    chunk = rows[0]["chunk"]
    sampled = [r for r in rows if r["naive"] is not None and r["sampled"] < r["size"]]
    largest = rows[-1]
    reading = (
        f"**Reading.** At {largest['size']:,} accounts the billing run takes "
        f"{largest['run'] / largest['sql']:.1f}x the time of the pure-SQL floor")
    if largest["naive"] is not None:
        reading += (f" and is {largest['naive'] / largest['run']:.1f}x faster than one "
                    "transaction per account")
    reading += (
        f"; it sends {largest['statements'] / largest['size']:.4f} statements per account "
        f"(about {largest['statements'] / max(1, -(-largest['size'] // chunk)):.0f} per chunk "
        f"of {chunk:,}, whatever the number of accounts). What the floor does not do and the "
        "run does: rate each subscription (proration, taxes, adjustments, plugin lines), take "
        "gap-free numbers, write the ledger rows, billed-through dates, next periods and run "
        "items, and check that nothing is billed twice. Most of the remaining time is Python "
        "(snapshots and rating, roughly 50-80 µs per account) and COPY of the rows.")
    body = "\n".join([
        "## Billing run (`bench/billing_run.py`)",
        "",
        common.machine_lines(info, scale_name),
        "",
        f"One billing period, three subscription lines per account (two taxed), chunks of "
        f"{chunk:,} accounts. Statements: SQL statements the billing run sends, COPY included.",
        "",
        table(rows),
        "",
        *([f"\\* the naive loop's cost per account is constant: timed on the first "
           f"{min(r['sampled'] for r in sampled):,} accounts and scaled.", ""] if sampled
          else []),
        "(a) two `INSERT ... SELECT` statements writing the same invoice and line rows (no "
        "ledger, no bookkeeping); (c) one transaction per account, one statement per row. "
        "Checked on every run: one invoice with three lines per account, totals equal to "
        "their lines, the ledger balancing for every account. Targets (issue #6): the run "
        "within 10x of (a), at least 10x faster than (c), statements per account not growing "
        "with the number of accounts.",
        "",
        reading])
    common.write_section("billing_run", body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--chunk", type=int, default=2000, help="accounts per transaction")
    parser.add_argument("--no-naive", action="store_true", help="skip the slow naive loop")
    parser.add_argument("--naive-sample", type=int, default=10_000,
                        help="time the naive loop on this many accounts and scale it")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    admin = os.environ.get("BACKHAUL_BENCH_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1/postgres")
    info = _machine(admin)
    rows = [measure(admin, size, args.chunk, not args.no_naive, args.naive_sample)
            for size in args.sizes]
    print(table(rows))
    if args.write_results:
        write_results(rows, info, "full" if max(args.sizes) >= 100_000 else "small")
        print(f"written to {RESULTS}")
    return 0


def _machine(admin: str) -> dict:
    from bench import common

    engine = sa.create_engine(_url(admin, "postgres"))
    try:
        return common.machine(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
