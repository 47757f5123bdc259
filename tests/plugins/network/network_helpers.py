"""Shared set-up of the network tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db


def make_tenant(app, name="Net Tenant"):
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.sdk.accounts import create_account

    service = catalogue.create_service(f"Fiber {name}", "data", "50.00", currency="USD",
                                       params={"download_mbps": 100, "upload_mbps": 20})
    account = create_account(name=name)
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=3))
    device = db.session.scalar(sa.select(Device)) or Device(
        name="mdu-router", backend="testkit.directory",
        settings={"path": str(app.device_folder)}, secrets="")
    db.session.add(device)
    db.session.flush()
    credentials.set_credentials(sub.id, username=f"user{sub.id}", password="s3cret-pass",
                                device_id=device.id)
    pool = db.session.scalar(sa.select(ipam.Subnet)) or ipam.create_subnet(
        "100.64.9.0/24", "pppoe", device_id=device.id)
    ipam.assign(sub.id, pool)
    db.session.commit()
    return account, sub, device


