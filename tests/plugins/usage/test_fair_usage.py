"""Fair usage end to end: a service with an allowance and a fair-usage rate is throttled on
the wire when its allowance is used — the (simulated) RouterOS router's queue, driven by the
MikroTik backend through the real librouteros client, drops to the fair-usage rate and the
live RADIUS session gets a CoA-Request with that rate at a NAS on loopback — and a top-up,
or a new period, restores the plan's rate. What the router holds is read from the
simulator's own tables; what the NAS received, from the packets it decoded."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.testing.radius import CoANas
from backhaul.sdk.testing.routeros import RouterOSSimulator

NAS_SECRET = "nas-shared-s3cret"
GB = 10**9
PLAN = "20M/100M"        # RouterOS 7's max-limit "upload/download": the 20/100 Mbps plan
FAIR = "1024k/1024k"     # fair_usage_kbps = 1024 both ways


@pytest.fixture
def router():
    with RouterOSSimulator(password="r0uter-pass") as sim:
        yield sim


@pytest.fixture
def nas():
    from backhaul.plugins.radius.dictionary import dictionary

    with CoANas(NAS_SECRET, dictionary()) as peer:
        yield peer


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "network", "network_mikrotik", "radius",
                                    "notifications", "usage"])
    with application.app_context():
        yield application


def _tenant(router, nas, allowance_gb=1, fair_usage_kbps=1024):
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.plugins.radius import accounting
    from backhaul.plugins.radius.graphql import set_nas_options
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    params = {"download_mbps": 100, "upload_mbps": 20, "allowance_gb": allowance_gb}
    if fair_usage_kbps is not None:
        params["fair_usage_kbps"] = fair_usage_kbps
    service = catalogue.create_service("Fiber 1 GB", "data", "50.00", currency="USD",
                                       params=params)
    account = create_account(name="Fair Tenant")
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=40))
    device = Device(name="bng-1", backend="mikrotik.routeros", host="127.0.0.1",
                    port=router.port, username="admin", vendor="MikroTik",
                    secrets=encrypt_json({"password": "r0uter-pass",
                                          "radius_secret": NAS_SECRET}))
    db.session.add(device)
    db.session.flush()
    credentials.set_credentials(sub.id, username=f"pppoe{sub.id}", password="tenant-pass",
                                device_id=device.id)
    ipam.assign(sub.id, ipam.create_subnet("100.64.30.0/24", "pppoe", device_id=device.id),
                "100.64.30.9")
    set_nas_options(device.id, coa_port=nas.port)
    db.session.commit()
    assert reconcile(device.id).record.error is None
    accounting.record(device.id, accounting.Update(
        status=accounting.START, session_id="FU-1", username=f"pppoe{sub.id}",
        at=datetime.now(UTC), framed_ip="100.64.30.9"), subscription_id=sub.id,
        account_id=account.id)
    db.session.commit()
    return account, sub, device


def _used(device, sub, total_bytes):
    """An Interim-Update from the NAS: the session's running totals (down = output)."""
    from backhaul.plugins.radius import accounting

    accounting.record(device.id, accounting.Update(
        status=accounting.INTERIM, session_id="FU-1", username=f"pppoe{sub.id}",
        at=datetime.now(UTC), output_octets=total_bytes * 9 // 10,
        input_octets=total_bytes - total_bytes * 9 // 10), subscription_id=sub.id)
    db.session.commit()  # the jobs (reconcile, CoA) run after the commit


def _queue(router, sub):
    [queue] = router.find("/queue/simple", name=f"backhaul-sub-{sub.id}")
    return queue["max-limit"]


def test_the_cap_throttles_on_the_router_and_by_coa_and_a_top_up_restores(app, router, nas):
    from backhaul.plugins.billing import catalogue, subscriptions

    account, sub, device = _tenant(router, nas)
    assert _queue(router, sub) == PLAN

    _used(device, sub, 900_000_000)  # 90%: warned, not throttled
    assert _queue(router, sub) == PLAN
    assert nas.requests == []

    _used(device, sub, 1_100_000_000)  # 110% of 1 GB
    assert _queue(router, sub) == FAIR
    [coa] = nas.wait_for(1)
    assert coa["_code"] == "coa" and coa["Acct-Session-Id"] == ["FU-1"]
    assert coa["Mikrotik-Rate-Limit"] == ["1024k/1024k"]

    _used(device, sub, 1_200_000_000)  # still over: nothing new on the wire
    assert len(nas.requests) == 1 and _queue(router, sub) == FAIR

    pack = catalogue.create_service("Extra 1 GB", "general", "5.00", currency="USD",
                                    params={"extra_gb": 1})
    subscriptions.subscribe(account.id, service=pack, start_date=date.today())
    db.session.commit()  # service_changed -> caps checked again -> 1.2 of 2 GB
    assert _queue(router, sub) == PLAN
    requests = nas.wait_for(2)
    assert requests[1]["_code"] == "coa"
    assert requests[1]["Mikrotik-Rate-Limit"] == ["20000k/100000k"]
    assert not nas.rejected


def test_a_new_period_lifts_the_throttle(app, router, nas):
    from backhaul.plugins.network.api import subscriber_for_username
    from backhaul.plugins.usage import fair_usage
    from backhaul.plugins.usage.models import Throttle

    _account, sub, device = _tenant(router, nas)
    _used(device, sub, 1_500_000_000)
    assert _queue(router, sub) == FAIR
    assert subscriber_for_username(f"pppoe{sub.id}").download_kbps == 1024
    nas.wait_for(1)

    # the month turns: the row is of the last period (as if written then)
    row = db.session.get(Throttle, sub.id)
    row.period_start = (fair_usage.current_period() - timedelta(days=1)).replace(day=1)
    db.session.commit()
    assert subscriber_for_username(f"pppoe{sub.id}").download_kbps == 100_000, \
        "RADIUS answers at the plan's rate as soon as the period is over"
    assert fair_usage.lift_expired() == 1  # the hourly job brings the router in step
    assert _queue(router, sub) == PLAN
    assert nas.wait_for(2)[1]["Mikrotik-Rate-Limit"] == ["20000k/100000k"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Throttle)) == 0
    assert fair_usage.lift_expired() == 0


def test_without_a_fair_usage_rate_the_cap_only_warns(app, router, nas):
    _account, sub, device = _tenant(router, nas, fair_usage_kbps=None)
    _used(device, sub, 1_500_000_000)
    assert _queue(router, sub) == PLAN
    assert nas.requests == []
