"""The embedded default under a few staff at once (issue 10, defect 2).

A real server process on a SQLite file, with its in-process scheduler running, and three
clients adding notes through the API as fast as they can for 30 seconds. Before the fix about
four in ten of these requests answered HTTP 500 ("database is locked") and the note was lost.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from backhaul.sdk.testing import free_port

BACKHAUL = str(Path(sys.executable).parent / "backhaul")
ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30
CLIENTS = 3

pytestmark = pytest.mark.slow

SETUP = """
from backhaul.core.app import create_app
from backhaul.sdk.accounts import create_account
from backhaul.sdk.testing.auth import create_api_token, make_staff_user
from backhaul.core.db import db
app = create_app()
with app.app_context():
    account = create_account(name="Busy Tenant")
    db.session.commit()
    user = make_staff_user(["accounts.account.view", "accounts.note.edit"])
    print(account.id, create_api_token(user, ["accounts.account.view", "accounts.note.edit"]))
"""


def _run(env, *args):
    out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _add_note(port, token, account_id, body) -> tuple[int, dict | None]:
    query = ("mutation($id: ID!, $b: String!) { addNote(accountId: $id, input: {body: $b}) "
             "{ ok errors { field messages } } }")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", method="POST",
        data=json.dumps({"query": query, "variables": {"id": str(account_id), "b": body}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_three_clients_adding_notes_for_thirty_seconds_lose_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKHAUL_")}
    env["BACKHAUL_INSTANCE_PATH"] = str(tmp_path / "instance")
    # clients as fast as they can go are far past the per-token rate limit (600 a minute,
    # tested in test_graphql_rate_limit.py): off, so this measures the database
    env["BACKHAUL_GRAPHQL_RATE_LIMIT"] = "0"
    _run(env, BACKHAUL, "db", "upgrade")
    account_id, token = _run(env, sys.executable, "-c", SETUP).split()[-2:]
    port = free_port()
    server = subprocess.Popen([BACKHAUL, "run", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sent, failures = [], []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except OSError:
                time.sleep(0.2)

        def client(n: int) -> None:
            stop, i = time.monotonic() + SECONDS, 0
            while time.monotonic() < stop:
                body = f"client {n} note {i}"
                status, answer = _add_note(port, token, account_id, body)
                payload = ((answer or {}).get("data") or {}).get("addNote") or {}
                ok = status == 200 and payload.get("ok") is True
                (sent if ok else failures).append((body, status, answer))
                i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert failures == [], f"{len(failures)} of {len(sent) + len(failures)} failed: {failures[:3]}"
    assert len(sent) > 30, "the clients got through only a handful of requests"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'instance' / 'backhaul.db'}")
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text(
            "SELECT body FROM core_note WHERE account_id = :a"), {"a": int(account_id)})
            .scalars())
    engine.dispose()
    assert {body for body, _, _ in sent} <= stored, "every acknowledged note is stored"
