"""Shared set-up of the RADIUS tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

import os
import subprocess
import time
from datetime import date, timedelta

from backhaul.sdk import db

NAS_SECRET = "nas-shared-s3cret"


def make_subscriber(app, name="Radius Tenant", username=None, password="tenant-pass",
                    address="100.64.20.7", device=None):
    """An account with a 100/20 data service, a PPPoE login on a NAS at 127.0.0.1."""
    import sqlalchemy as sa

    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device, Subnet
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    service = catalogue.create_service(f"Fiber {name}", "data", "50.00", currency="USD",
                                       params={"download_mbps": 100, "upload_mbps": 20})
    account = create_account(name=name)
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=2))
    device = device or db.session.scalar(sa.select(Device).where(Device.name == "bng-1"))
    if device is None:
        device = Device(name="bng-1", backend="testkit.directory", host="127.0.0.1",
                        vendor="MikroTik", settings={"path": str(app.device_folder)},
                        secrets=encrypt_json({"radius_secret": NAS_SECRET}))
        db.session.add(device)
        db.session.flush()
    credentials.set_credentials(sub.id, username=username or f"pppoe{sub.id}",
                                password=password, device_id=device.id)
    pool = db.session.scalar(sa.select(Subnet).where(Subnet.cidr == "100.64.20.0/24")) or \
        ipam.create_subnet("100.64.20.0/24", "pppoe", device_id=device.id)
    ipam.assign(sub.id, pool, address)
    db.session.commit()
    return account, sub, device


def _bound(port: int) -> bool:
    """Whether something holds UDP ``port`` on loopback (the server, once it listens)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class RadiusProcess:
    """``backhaul serve radius.server`` as a real subprocess on loopback ports."""

    def __init__(self, app, auth_port: int, acct_port: int, **settings):
        from backhaul.sdk.testing import app_environ

        extra = {"BACKHAUL_PLUGIN_RADIUS__BIND": "127.0.0.1",
                 "BACKHAUL_PLUGIN_RADIUS__AUTH_PORT": str(auth_port),
                 "BACKHAUL_PLUGIN_RADIUS__ACCT_PORT": str(acct_port)}
        extra.update({f"BACKHAUL_PLUGIN_RADIUS__{k.upper()}": str(v)
                      for k, v in settings.items()})
        self.env = app_environ(app, **extra)
        self.auth_port, self.acct_port = auth_port, acct_port
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(app.config["INSTANCE_PATH"], f"radius-{auth_port}.log")

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["backhaul", "serve", "radius.server"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"radius server exited: {self.output()}")
            if _bound(self.acct_port):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"radius server did not start: {self.output()}")

    def output(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
