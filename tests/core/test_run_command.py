"""The run command's path (scripts/run.sh), step by step through the real ``backhaul`` CLI in
subprocesses, from an empty instance folder: migrate, demo data (twice: the second run changes
nothing), the first staff login, then a server that answers with the sign-in page."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from backhaul.sdk.testing import free_port

BACKHAUL = str(Path(sys.executable).parent / "backhaul")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def instance_env(tmp_path):
    """The environment of a fresh machine: nothing configured but the instance folder."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKHAUL_")}
    env["BACKHAUL_INSTANCE_PATH"] = str(instance)
    return instance, env


def backhaul(env, *args: str, timeout: float = 180) -> str:
    result = subprocess.run([BACKHAUL, *args], env=env, capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"backhaul {' '.join(args)} failed:\n{result.stdout}\n" \
                                   f"{result.stderr}"
    return result.stdout


def row_counts(database: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
                    for name in names}
    finally:
        engine.dispose()




def has_command(env, name: str) -> bool:
    return f"  {name} " in backhaul(env, "--help")


def test_the_run_command_path_from_an_empty_instance(instance_env):
    instance, env = instance_env
    assert not instance.exists()

    assert "database is up to date (core" in backhaul(env, "db", "upgrade")
    database = instance / "backhaul.db"
    assert database.exists()
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600

    assert "demo data loaded" in backhaul(env, "demo", "load")
    first = row_counts(database)
    assert "example_greeting" not in first, "the opt-in example plugin is not enabled by default"
    assert first["billing_account"] >= 2, "the billing plugin's demo data is there"
    assert "demo data loaded" in backhaul(env, "demo", "load")
    assert row_counts(database) == first, "a second demo load changes nothing"

    if has_command(env, "users"):  # scripts/run.sh: the first staff login
        assert "Staff login:" in backhaul(env, "users", "ensure-admin")
        assert "Staff login:" in backhaul(env, "users", "ensure-admin")

    port = free_port()
    server = subprocess.Popen([BACKHAUL, "run", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/login", server)
        assert "Sign in" in page and 'type="password"' in page
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"Backhaul is serving on http://127.0.0.1:{port}/" in output


def wait_for_page(url: str, server: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return response.read().decode()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s")
