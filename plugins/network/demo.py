"""Demo data for ``backhaul demo load``: a site, a PPPoE pool, and credentials plus an
address for every demo tenant's data service. Idempotent and demo-only: it touches only
accounts numbered ``DEMO-*`` and creates each record once. No device is added: pointing the
demo at a router that does not exist would only fill the reconcile log with errors."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.plugins.billing.api import subscriptions
from backhaul.sdk import db
from backhaul.sdk.accounts import Account

from . import credentials, ipam
from .models import Credential, Site, Subnet

SITE, POOL = "Maple Court MDF", "100.64.0.0/24"


def load_demo() -> None:
    if db.session.scalar(sa.select(Site.id).where(Site.name == SITE)) is None:
        db.session.add(Site(name=SITE, latitude=39.7817, longitude=-89.6501))
    pool = db.session.scalar(sa.select(Subnet).where(Subnet.cidr == POOL)) or \
        ipam.create_subnet(POOL, "pppoe", description="demo PPPoE pool")
    demo_ids = set(db.session.scalars(sa.select(Account.id).where(
        Account.number.like("DEMO-%"))))
    done = set(db.session.scalars(sa.select(Credential.subscription_id)))
    for sub in subscriptions(account_ids=demo_ids, type_keys=["data"]) if demo_ids else []:
        if sub.id in done:
            continue
        credentials.set_credentials(sub.id, username=f"demo{sub.id:04d}")
        ipam.assign(sub.id, pool)
        done.add(sub.id)
    db.session.commit()
