"""What the benchmarks share: the scale, a throw-away PostgreSQL database, an app on it, the
machine's description, SQL statement counting, and rewriting one section of RESULTS.md.

Every benchmark reports *ratios* against baselines measured in the same run on the same
machine; absolute numbers are only comparable within one section (they move with the machine
and with whatever else it is doing, which is why the load average is recorded too).
"""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

RESULTS = Path(__file__).parent / "RESULTS.md"
SCALES = ("small", "full")
RESULTS_HEADER = """# Benchmark results

Written by `make bench` (`scripts/bench.sh`). Each section belongs to one benchmark in
`bench/` and is rewritten by it; the numbers that matter are the ratios against the
baselines measured in the same run on the same machine. Absolute rates move with the machine
and its load.
"""


class BenchError(RuntimeError):
    """A benchmark cannot run (missing peer, wrong scale); the message says what to do."""


def scale(value: str | None = None) -> str:
    """``small`` (a quick run, the default) or ``full``, from ``BENCH_SCALE`` unless given."""
    chosen = (value or os.environ.get("BENCH_SCALE") or "small").strip().lower()
    if chosen not in SCALES:
        raise BenchError(f"BENCH_SCALE={chosen!r}: use 'small' or 'full'")
    return chosen


def admin_url() -> str:
    """An admin URL of the PostgreSQL server that may CREATE and DROP databases."""
    url = os.environ.get("BACKHAUL_BENCH_DATABASE_URL") or os.environ.get(
        "BACKHAUL_TEST_DATABASE_URL")
    if not url:
        raise BenchError("no PostgreSQL: run through `make bench` (it starts the peers), or set "
                         "BACKHAUL_BENCH_DATABASE_URL=postgresql://user:pw@host/postgres")
    return url


def redis_url() -> str:
    url = os.environ.get("BACKHAUL_BENCH_REDIS_URL") or os.environ.get("BACKHAUL_TEST_REDIS_URL")
    if not url:
        raise BenchError("no Redis: run through `make bench` (it starts the peers), or set "
                         "BACKHAUL_BENCH_REDIS_URL=redis://127.0.0.1:6379/14")
    return url


def pg_url(admin: str, dbname: str) -> str:
    url = sa.engine.make_url(admin.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=dbname).render_as_string(hide_password=False)


@contextmanager
def throwaway_database(prefix: str = "bh_bench") -> Iterator[str]:
    """Create a database for this run, yield its URL, drop it afterwards (even on failure)."""
    admin = admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(pg_url(admin, "postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(admin, name)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def make_app(database_url: str, **config):
    """A strict app on ``database_url`` (core plugins only unless ``PLUGINS`` is given)."""
    from backhaul.core.app import create_app

    settings = {"DATABASE_URL": database_url,
                "INSTANCE_PATH": tempfile.mkdtemp(prefix="bh-bench-"),
                "SECRET_KEY": "bench-secret-key-" + "x" * 32, "STRICT_PLUGINS": True,
                "PLUGINS": [], "QUEUE_PREFIX": f"bhbench-{uuid.uuid4().hex[:8]}"}
    settings.update(config)
    return create_app(settings)


def migrate(app) -> None:
    from backhaul.core.db import db
    from backhaul.core.migrate import upgrade

    with app.app_context():
        upgrade(app)
        db.session.remove()


def dispose(app) -> None:
    """Close the app's connections (before its database is dropped)."""
    from backhaul.core.db import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class StatementCounter:
    """Counts the SQL statements (SQLAlchemy's ``before_cursor_execute``: one per statement
    sent) and the commits an engine makes while the block runs."""

    def __init__(self, engine):
        self.engine, self.count, self.commits = engine, 0, 0

    def _hit(self, *_args, **_kwargs) -> None:
        self.count += 1

    def _commit(self, *_args, **_kwargs) -> None:
        self.commits += 1

    def __enter__(self) -> StatementCounter:
        self.count = self.commits = 0
        sa.event.listen(self.engine, "before_cursor_execute", self._hit)
        sa.event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._hit)
        sa.event.remove(self.engine, "commit", self._commit)


def timed(func, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def median(values) -> float:
    return statistics.median(values)


# ------------------------------------------------------------------------------ the machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(engine, redis=None) -> dict:
    """What the numbers were measured on: cores, CPU, versions, durability settings, load."""
    import sqlalchemy

    with engine.connect() as conn:
        pg = conn.execute(sa.text("SHOW server_version")).scalar()
        fsync = conn.execute(sa.text("SHOW fsync")).scalar()
        sync_commit = conn.execute(sa.text("SHOW synchronous_commit")).scalar()
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": _cpu_model(), "arch": platform.machine(),
            "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
            "postgresql": pg.split()[0], "fsync": fsync, "synchronous_commit": sync_commit,
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if redis is not None:
        info["redis"] = redis.info("server").get("redis_version")
    return info


def machine_lines(info: dict, scale_name: str) -> str:
    redis = f", Redis {info['redis']}" if info.get("redis") else ""
    load = f"; load average {info['load']:.2f} at the start" if info.get("load") is not None \
        else ""
    return (f"Measured {info['date']} (`BENCH_SCALE={scale_name}`) on {info['nproc']} cores "
            f"({info['cpu']}, {info['arch']}){load}. Python {info['python']}, SQLAlchemy "
            f"{info['sqlalchemy']}, PostgreSQL {info['postgresql']} (local; fsync "
            f"{info['fsync']}, synchronous_commit {info['synchronous_commit']}){redis}.")


# ------------------------------------------------------------------------------ RESULTS.md
def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace the text between this benchmark's markers (or append the section), leaving
    every other section of the file exactly as it was. Written atomically."""
    start, end = markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else RESULTS_HEADER
    first = text.find(start)
    last = text.find(end, first + len(start)) if first >= 0 else -1
    if first >= 0 and last >= 0:
        text = text[:first] + block + text[last + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"
