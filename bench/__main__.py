"""``python -m bench [name ...] [--scale small|full] [--no-write]``: run the benchmarks (all by
default) and rewrite each one's section of ``bench/RESULTS.md``.

``scripts/bench.sh`` (``make bench``) starts PostgreSQL and Redis first and runs this. A
benchmark that fails is reported and the others still run; the exit status is then 1.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from . import common

HERE = Path(__file__).parent
#: run in this process through their ``main(argv)``
IN_PROCESS = ("jobs_dispatch", "graphql_list", "routeros_reconcile", "network_desired",
              "network_restore", "radius_auth", "usage_collector", "junos_reconcile",
              "stripe_webhooks")
IN_PROCESS += ("imap_fetch",)
IN_PROCESS += ("poller_snmp",)
#: a script with its own command line, writing its own section of RESULTS.md
BILLING_ARGS = {"small": ["--sizes", "2000", "--naive-sample", "500"], "full": []}
BENCHMARKS = (*IN_PROCESS, "billing_run")


def run_in_process(name: str, scale: str, write: bool) -> int:
    import importlib

    module = importlib.import_module(f"bench.{name}")
    return module.main(["--scale", scale, *(["--write-results"] if write else [])])


def run_billing(scale: str, write: bool) -> int:
    env = dict(os.environ)
    env.setdefault("BACKHAUL_BENCH_DATABASE_URL", common.admin_url())
    args = [sys.executable, str(HERE / "billing_run.py"), *BILLING_ARGS[scale],
            *(["--write-results"] if write else [])]
    return subprocess.run(args, env=env, check=False).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"some of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--scale", choices=common.SCALES, default=None,
                        help="default: BENCH_SCALE, else small")
    parser.add_argument("--no-write", action="store_true",
                        help="print the results without touching RESULTS.md")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}: use {', '.join(BENCHMARKS)}")
    scale = common.scale(args.scale)
    failed = []
    for name in args.names or BENCHMARKS:
        print(f"==> {name} (BENCH_SCALE={scale})", flush=True)
        started = time.perf_counter()
        try:
            status = (run_billing(scale, not args.no_write) if name == "billing_run"
                      else run_in_process(name, scale, not args.no_write))
        except Exception:
            traceback.print_exc()
            status = 1
        print(f"==> {name}: {'ok' if status == 0 else 'FAILED'} in "
              f"{time.perf_counter() - started:.0f}s", flush=True)
        if status != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if not args.no_write:
        print(f"results: {common.RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
