"""GraphQL under load from a second process: a real HTTP server, latency percentiles.

Used by :mod:`bench.graphql_list`. The app runs in a process of its own (spawned, so it shares
nothing with the measuring process) behind an HTTP/1.1 server with one worker process:
Werkzeug's threaded development server, or gunicorn (the production server; see
:data:`SERVERS`). This process sends the requests over keep-alive connections from
``concurrency`` client threads and records each request's latency.

The floors are measured the same way: **raw SQL** is the one hand-written statement sent
from this process's threads straight to PostgreSQL (no HTTP, no auth, no GraphQL), and
**HTTP + raw SQL** is that statement behind the same server (``GET /bench/floor``, the same
Bearer token, rows as JSON): what any authenticated HTTP endpoint serving the page costs.
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import socket
import statistics
import threading
import time

import sqlalchemy as sa


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bench_app(database_url: str):
    """The bench app plus the HTTP floor route."""
    from flask import jsonify, request

    from backhaul.core.db import db

    from . import common
    from .graphql_list import PLUGINS, RAW_SQL, naive_plugin

    app = common.make_app(database_url, PLUGINS=PLUGINS, EXTRA_PLUGINS=[naive_plugin()],
                          GRAPHQL_RATE_LIMIT=0)  # thousands of requests from one token

    def floor():
        first = int(request.args.get("first", 50))
        sql = RAW_SQL if request.args.get("q") != "list" else _list_sql()
        rows = db.session.execute(sql, {"limit": first + 1}).all()
        db.session.rollback()
        return jsonify(rows=[list(r) for r in rows])

    app.add_url_rule("/bench/floor", "bench_floor", floor)
    return app


#: The HTTP servers the load can be measured behind: Werkzeug's threaded development server,
#: and gunicorn (the production server, ``pip install 'backhaul[production]'``) with one
#: worker process of ``THREADS`` threads (the ``gthread`` worker: keep-alive connections).
SERVERS = ("werkzeug", "gunicorn")
THREADS = 4


def _serve(database_url: str, port: int, ready, server_name: str = "werkzeug") -> None:
    """The server process: the bench app behind ``server_name``, until terminated."""
    import logging

    if server_name == "gunicorn":
        _serve_gunicorn(database_url, port, ready)
        return
    from werkzeug.serving import make_server

    app = _bench_app(database_url)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.timeout = 1
    ready.set()
    server.serve_forever()


def _serve_gunicorn(database_url: str, port: int, ready) -> None:
    """gunicorn in this process (the arbiter), one gthread worker forked from it; the app is
    built in the worker (no connections shared across the fork)."""
    from gunicorn.app.base import BaseApplication

    class Bench(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": 1,
                               "worker_class": "gthread", "threads": THREADS,
                               "keepalive": 30, "loglevel": "warning", "accesslog": None,
                               "post_worker_init": lambda _worker: ready.set()}.items():
                self.cfg.set(key, value)

        def load(self):
            return _bench_app(database_url)

    Bench().run()


def _list_sql():
    from .graphql_list import LIST_RAW_SQL

    return LIST_RAW_SQL


class Server:
    """The app in a spawned process, listening on a free port."""

    def __init__(self, database_url: str, server_name: str = "werkzeug"):
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        self.port = free_port()
        self.process = context.Process(target=_serve,
                                       args=(database_url, self.port, ready, server_name),
                                       daemon=True)
        self.process.start()
        if not ready.wait(120):
            self.close()
            raise RuntimeError("the GraphQL bench server did not start within 120 s")

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


class Client:
    """One keep-alive connection; ``post``/``get`` return the decoded JSON body."""

    def __init__(self, port: int, headers: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers

    def send(self, method: str, url: str, body: dict | None = None):
        payload = json.dumps(body).encode() if body is not None else None
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, url, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise AssertionError(f"{method} {url}: HTTP {response.status} {data[:300]!r}")
        decoded = json.loads(data)
        if isinstance(decoded, dict) and decoded.get("errors"):
            raise AssertionError(f"{url}: {decoded['errors']}")
        return decoded

    def close(self) -> None:
        self.conn.close()


def load(make_request, concurrency: int, requests: int) -> dict:
    """Run ``requests`` requests from ``concurrency`` threads; each thread calls
    ``make_request(state)`` with its own ``state`` dict. Latencies in ms, rate in req/s."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = max(1, requests // concurrency)
    errors: list[BaseException] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker():
        state: dict = {}
        mine = []
        try:
            make_request(state)  # warm-up: connection, token bookkeeping
            barrier.wait()
            for _ in range(per_thread):
                started = time.perf_counter()
                make_request(state)
                mine.append((time.perf_counter() - started) * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()
        finally:
            for closer in state.get("close", ()):
                closer()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    latencies.sort()
    return {"rate": len(latencies) / elapsed, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "count": len(latencies)}


def http_request(port: int, headers: dict, method: str, url: str, body: dict | None = None):
    def make(state: dict):
        client = state.get("client")
        if client is None:
            client = state["client"] = Client(port, headers)
            state.setdefault("close", []).append(client.close)
        return client.send(method, url, body)

    return make


def sql_request(engine, sql, params: dict):
    def make(state: dict):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = engine.connect()
            state.setdefault("close", []).append(conn.close)
        rows = conn.execute(sql, params).all()
        conn.rollback()
        return rows

    return make


def sql_engine(database_url: str):
    return sa.create_engine(database_url, pool_size=8)
