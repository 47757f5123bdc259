"""Shared set-up of the RADIUS tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

from datetime import date, timedelta

from backhaul.sdk import db
from backhaul.sdk.testing.processes import ServiceProcess

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


def eventually(read, expected, timeout: float = 10.0):
    """``read()`` (in a fresh transaction) until it returns ``expected``; its last value.
    Accounting is answered once journaled and committed a moment later, so a test reads the
    database until the update arrives — and a value past ``expected`` (counted twice) never
    equals it, so the test still fails."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class RadiusProcess(ServiceProcess):
    """``backhaul serve radius.server`` as a real subprocess on loopback ports."""

    def __init__(self, app, auth_port: int, acct_port: int, **settings):
        super().__init__(app, "radius.server", ready_port=acct_port, plugin="radius",
                         bind="127.0.0.1", auth_port=auth_port, acct_port=acct_port,
                         **settings)
        self.auth_port, self.acct_port = auth_port, acct_port
