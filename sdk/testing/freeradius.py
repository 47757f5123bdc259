"""A real FreeRADIUS 3 server for tests, configured the way an operator would from
the files the radius plugin ships (``plugins/radius/freeradius_config``: its ``sql`` module and
``site``; pass that folder as ``shipped``): it authenticates from
Backhaul's ``radius_fr_*`` tables and writes accounting to ``radius_fr_acct``.

The configuration is Debian's (``/etc/freeradius/3.0``, packages ``freeradius`` and
``freeradius-postgresql``) copied to a temporary folder, with its sites replaced by the
Backhaul site, the ``sql`` module added, EAP left out (it needs certificates), and the
unprivileged user lines dropped so it can read the temporary folder. It listens on the
ports given, on every loopback address, and is stopped and removed on exit.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

DEBIAN_CONFIG = Path("/etc/freeradius/3.0")


def missing() -> str | None:
    if shutil.which("freeradius") is None:
        return "freeradius (Debian package freeradius)"
    if not Path("/usr/lib/freeradius/rlm_sql_postgresql.so").exists():
        return "freeradius-postgresql"
    if not DEBIAN_CONFIG.is_dir():
        return str(DEBIAN_CONFIG)
    return None


class FreeRadiusPeer:
    def __init__(self, database_url: str, auth_port: int, acct_port: int, *,
                 shipped: Path, read_clients: bool = True, clients_conf: str = ""):
        """``shipped``: the folder holding the ``sql`` module and ``site`` to use (the radius
        plugin's ``freeradius_config``)."""
        self.shipped = Path(shipped)
        self.url = sa.engine.make_url(database_url)
        self.auth_port, self.acct_port = auth_port, acct_port
        self.read_clients = read_clients
        self.clients_conf = clients_conf
        self.folder = Path(tempfile.mkdtemp(prefix="bh-freeradius-"))
        self.config = self.folder / "raddb"
        self.proc: subprocess.Popen | None = None

    def _write_config(self) -> None:
        shipped = self.shipped
        shutil.copytree(DEBIAN_CONFIG, self.config, symlinks=True)
        for site in (self.config / "sites-enabled").iterdir():
            site.unlink()
        for module in ("eap", "mschap", "ntlm_auth"):
            (self.config / "mods-enabled" / module).unlink(missing_ok=True)
        values = {"@DB_HOST@": self.url.host or "127.0.0.1",
                  "@DB_PORT@": str(self.url.port or 5432),
                  "@DB_USER@": self.url.username or "", "@DB_PASSWORD@": self.url.password or "",
                  "@DB_NAME@": self.url.database or "",
                  "@READ_CLIENTS@": "yes" if self.read_clients else "no",
                  "@AUTH_PORT@": str(self.auth_port), "@ACCT_PORT@": str(self.acct_port)}
        for source, target in (("sql", "mods-enabled/sql"), ("site", "sites-enabled/backhaul")):
            text = (shipped / source).read_text()
            for key, value in values.items():
                text = text.replace(key, value)
            (self.config / target).write_text(text)
        conf = self.config / "radiusd.conf"
        lines = [line for line in conf.read_text().splitlines()
                 if line.strip().split("=")[0].strip() not in ("user", "group")]
        conf.write_text("\n".join(lines) + "\n")
        (self.config / "clients.conf").write_text(self.clients_conf)
        (self.folder / "run").mkdir()
        (self.folder / "log").mkdir()

    def start(self) -> FreeRadiusPeer:
        self._write_config()
        log = open(self.folder / "out.log", "w")
        self.proc = subprocess.Popen(
            ["freeradius", "-f", "-l", "stdout", "-d", str(self.config),
             "-D", "/usr/share/freeradius"], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(self.folder)})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "Ready to process requests" in self.output():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"freeradius exited: {self.output()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"freeradius did not start: {self.output()[-4000:]}")

    def output(self) -> str:
        path = self.folder / "out.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> FreeRadiusPeer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
