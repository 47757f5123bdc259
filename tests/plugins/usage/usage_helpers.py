"""Shared set-up of the usage tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.testing.processes import ServiceProcess

NAS_SECRET = "nas-shared-s3cret"


def make_subscriber(app, name="Usage Tenant", address="100.64.20.7", allowance_gb=None,
                    fair_usage_kbps=None):
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
    if fair_usage_kbps is not None:
        params["fair_usage_kbps"] = fair_usage_kbps
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


class CollectorProcess(ServiceProcess):
    """``backhaul serve usage.collector`` as a real subprocess on a loopback port."""

    def __init__(self, app, port: int, **settings):
        super().__init__(app, "usage.collector", ready_port=port, plugin="usage",
                         **{"bind": "127.0.0.1", "netflow_port": port, "flush_seconds": "0.2",
                            **settings})
        self.port = port
