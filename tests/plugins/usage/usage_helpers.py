"""Shared set-up of the usage tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db

NAS_SECRET = "nas-shared-s3cret"


def make_subscriber(app, name="Usage Tenant", address="100.64.20.7", allowance_gb=None):
    """An account with a 100/20 data service (optional allowance), a PPPoE login on a NAS at
    127.0.0.1 and ``address`` from the 100.64.20.0/24 pool (None: no address)."""
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device, Subnet
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    params = {"download_mbps": 100, "upload_mbps": 20}
    if allowance_gb is not None:
        params["allowance_gb"] = allowance_gb
    service = catalogue.create_service(f"Fiber {name}", "data", "50.00", currency="USD",
                                       params=params)
    account = create_account(name=name)
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=70))
    device = db.session.scalar(sa.select(Device).where(Device.name == "bng-1"))
    if device is None:
        device = Device(name="bng-1", backend="testkit.directory", host="127.0.0.1",
                        vendor="MikroTik", settings={"path": str(app.device_folder)},
                        secrets=encrypt_json({"radius_secret": NAS_SECRET}))
        db.session.add(device)
        db.session.flush()
    credentials.set_credentials(sub.id, username=f"pppoe{sub.id}", password="tenant-pass",
                                device_id=device.id)
    pool = db.session.scalar(sa.select(Subnet).where(Subnet.cidr == "100.64.20.0/24")) or \
        ipam.create_subnet("100.64.20.0/24", "pppoe", device_id=device.id)
    if address:
        ipam.assign(sub.id, pool, address)
    db.session.commit()
    return account, sub, device


def _bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class CollectorProcess:
    """``backhaul serve usage.collector`` as a real subprocess on a loopback port."""

    def __init__(self, app, port: int, **settings):
        from backhaul.sdk.testing import app_environ

        extra = {"BACKHAUL_PLUGIN_USAGE__BIND": "127.0.0.1",
                 "BACKHAUL_PLUGIN_USAGE__NETFLOW_PORT": str(port),
                 "BACKHAUL_PLUGIN_USAGE__FLUSH_SECONDS": "0.2"}
        extra.update({f"BACKHAUL_PLUGIN_USAGE__{k.upper()}": str(v)
                      for k, v in settings.items()})
        self.env = app_environ(app, **extra)
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(app.config["INSTANCE_PATH"], f"collector-{port}.log")

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(["backhaul", "serve", "usage.collector"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.output()}")
            if _bound(self.port):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"collector did not start: {self.output()}")

    def output(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
