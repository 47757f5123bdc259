"""A real ISC Kea DHCPv4 server and a real DHCP client, wired by a veth pair, for tests.

``KeaPeer`` creates a throw-away PostgreSQL database, lets ``kea-admin db-init pgsql`` create
Kea's own schema in it, starts ``kea-dhcp4`` (Debian's ``kea-dhcp4-server``) with that
database as its lease and hosts backend on one end of a veth pair in this namespace, and puts
the other end in a network namespace of the test's own. :meth:`KeaPeer.request` runs ISC's
``dhclient`` in that namespace with a chosen MAC and returns the address it was given (or
``None``). Nothing leaves the machine: the only link is the veth pair.

Needs root (namespaces, raw sockets), ``kea-dhcp4``, ``kea-admin``, ``dhclient``, ``ip`` and a
PostgreSQL admin URL (``BACKHAUL_TEST_DATABASE_URL``); :func:`missing` says what is absent.
Everything started is stopped and removed on exit (the server and client by pid, the
namespace and link by name, the database).
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

TOOLS = ("kea-dhcp4", "kea-admin", "dhclient", "ip")


def missing() -> str | None:
    """Why a KeaPeer cannot run here, or None."""
    if os.geteuid() != 0:
        return "root (network namespaces and raw sockets)"
    absent = [t for t in TOOLS if shutil.which(t) is None]
    if absent:
        return ", ".join(absent)
    if not os.environ.get("BACKHAUL_TEST_DATABASE_URL"):
        return "PostgreSQL (BACKHAUL_TEST_DATABASE_URL)"
    return None


def _run(*args: str, check: bool = True, timeout: float = 30, **kw):
    return subprocess.run(args, check=check, timeout=timeout, capture_output=True, text=True,
                          **kw)


class KeaPeer:
    """``with KeaPeer({"100.126.7.0/24": 7}) as kea: kea.request("02:00:00:00:00:01")``."""

    def __init__(self, subnets: dict[str, int], *, admin_url: str | None = None,
                 valid_lifetime: int = 600):
        self.subnets = dict(subnets)
        self.admin_url = sa.engine.make_url(admin_url or os.environ[
            "BACKHAUL_TEST_DATABASE_URL"])
        self.valid_lifetime = valid_lifetime
        tag = uuid.uuid4().hex[:6]
        self.database = f"bh_kea_{tag}"
        self.namespace = f"bhkea-{tag}"
        self.server_if, self.client_if = f"bks{tag}", f"bkc{tag}"
        self.folder = Path(tempfile.mkdtemp(prefix="bh-kea-"))
        self._server: subprocess.Popen | None = None
        self._started: list[str] = []

    # --------------------------------------------------------------- what tests use
    @property
    def host(self) -> str:
        return self.admin_url.host or "127.0.0.1"

    @property
    def port(self) -> int:
        return self.admin_url.port or 5432

    @property
    def username(self) -> str:
        return self.admin_url.username or ""

    @property
    def password(self) -> str:
        return self.admin_url.password or ""

    def sql(self, statement: str, **params):
        """Run SQL in Kea's database (what a test reads back, or a change made by hand)."""
        engine = sa.create_engine(self._url(self.database))
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return result.fetchall() if result.returns_rows else None
        finally:
            engine.dispose()

    def request(self, mac: str, *, timeout: float = 12) -> str | None:
        """Ask for an address from the namespace with ``mac``: a fresh DISCOVER (no lease
        remembered), one attempt. The address bound, or None when nothing was offered."""
        _run("ip", "netns", "exec", self.namespace, "ip", "link", "set", self.client_if,
             "down")
        _run("ip", "netns", "exec", self.namespace, "ip", "link", "set", self.client_if,
             "address", mac)
        _run("ip", "netns", "exec", self.namespace, "ip", "addr", "flush", "dev",
             self.client_if)
        _run("ip", "netns", "exec", self.namespace, "ip", "link", "set", self.client_if, "up")
        leases, pid = self.folder / f"dhclient-{uuid.uuid4().hex[:6]}.leases", \
            self.folder / "dhclient.pid"
        script = self.folder / "dhclient-script"
        if not script.exists():  # bind the address ourselves: no resolv.conf changes
            script.write_text("#!/bin/sh\ncase \"$reason\" in BOUND|RENEW|REBIND|REBOOT)\n"
                              "  ip addr add \"$new_ip_address/${new_subnet_mask:-24}\" dev "
                              "\"$interface\" 2>/dev/null;;\nesac\nexit 0\n")
            script.chmod(0o755)
        conf = self.folder / "dhclient.conf"  # give up after ``timeout`` seconds, once
        conf.write_text(f"timeout {max(1, int(timeout))};\nretry 1;\n")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, "dhclient", "-1", "-v", "-cf", str(conf),
             "-sf", str(script), "-pf", str(pid), "-lf", str(leases), self.client_if],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = proc.communicate(timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        finally:  # once bound, dhclient went to the background: stop it
            if pid.exists():
                try:
                    os.kill(int(pid.read_text().strip() or 0), signal.SIGTERM)
                except (ValueError, ProcessLookupError):
                    pass
                pid.unlink(missing_ok=True)
            _run("ip", "netns", "exec", self.namespace, "ip", "addr", "flush", "dev",
                 self.client_if, check=False)
        for line in out.splitlines():
            if line.startswith("bound to "):
                return line.split()[2]
        return None

    def log(self) -> str:
        path = self.folder / "kea.log"
        return path.read_text() if path.exists() else ""

    # --------------------------------------------------------------- lifecycle
    def _url(self, database: str) -> str:
        url = self.admin_url.set(drivername="postgresql+psycopg", database=database)
        return url.render_as_string(hide_password=False)

    def start(self) -> KeaPeer:
        try:
            self._create_database()
            self._create_link()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_database(self) -> None:
        admin = sa.create_engine(self._url(self.admin_url.database or "postgres"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        self._started.append("database")
        env = {**os.environ, "PGPASSWORD": self.password}
        result = _run("kea-admin", "db-init", "pgsql", "-h", self.host, "-P", str(self.port),
                      "-u", self.username, "-p", self.password, "-n", self.database,
                      check=False, timeout=120, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"kea-admin db-init failed: {result.stdout}{result.stderr}")

    def _create_link(self) -> None:
        first = ipaddress.ip_network(next(iter(self.subnets)))
        server_ip = f"{next(first.hosts())}/{first.prefixlen}"
        _run("ip", "netns", "add", self.namespace)
        self._started.append("namespace")
        _run("ip", "link", "add", self.server_if, "type", "veth", "peer", "name",
             self.client_if)
        self._started.append("link")
        _run("ip", "link", "set", self.client_if, "netns", self.namespace)
        _run("ip", "addr", "add", server_ip, "dev", self.server_if)
        _run("ip", "link", "set", self.server_if, "up")
        _run("ip", "netns", "exec", self.namespace, "ip", "link", "set", "lo", "up")
        # carrier on both ends before Kea opens its socket ("the interface is not running")
        _run("ip", "netns", "exec", self.namespace, "ip", "link", "set", self.client_if, "up")

    def _start_server(self) -> None:
        backend = {"type": "postgresql", "name": self.database, "host": self.host,
                   "port": self.port, "user": self.username, "password": self.password}
        config = {"Dhcp4": {
            "interfaces-config": {"interfaces": [self.server_if], "dhcp-socket-type": "raw"},
            "lease-database": backend, "hosts-database": backend,
            "host-reservation-identifiers": ["hw-address", "circuit-id"],
            "valid-lifetime": self.valid_lifetime,
            "subnet4": [{"id": sid, "subnet": cidr} for cidr, sid in self.subnets.items()],
            "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                         "output_options": [{"output": str(self.folder / "kea.log")}]}]}}
        path = self.folder / "kea-dhcp4.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)  # it holds the database password
        env = {**os.environ, "KEA_PIDFILE_DIR": str(self.folder),
               "KEA_LOCKFILE_DIR": str(self.folder)}
        self._server = subprocess.Popen(["kea-dhcp4", "-c", str(path)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # listening once the log says so
            if "DHCP4_STARTED" in self.log():
                return
            if self._server.poll() is not None:
                raise RuntimeError(f"kea-dhcp4 exited: {self.log()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"kea-dhcp4 did not start: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(signal.SIGTERM)
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
        self._server = None
        if "link" in self._started:
            _run("ip", "link", "del", self.server_if, check=False)
        if "namespace" in self._started:
            _run("ip", "netns", "del", self.namespace, check=False)
        if "database" in self._started:
            admin = sa.create_engine(self._url(self.admin_url.database or "postgres"),
                                     isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database}" '
                                     "WITH (FORCE)"))
            admin.dispose()
        self._started.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> KeaPeer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
