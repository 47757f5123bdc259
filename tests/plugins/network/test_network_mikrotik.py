"""The office reaches the wire: the network plugin keeps a (simulated) RouterOS router in
step with the business, through the MikroTik backend and the real librouteros client.

The simulator speaks the RouterOS API protocol; what it holds after each business event is
read from its own tables, not from the backend's.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from backhaul.sdk import db
from backhaul.sdk.testing.routeros import RouterOSSimulator


@pytest.fixture
def router():
    with RouterOSSimulator(password="r0uter-pass") as sim:
        yield sim


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "network", "network_mikrotik"])
    with application.app_context():
        yield application


def _tenant(router, name: str):
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials
    from backhaul.plugins.network.models import Device
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    service = catalogue.create_service(f"Fiber {name}", "data", "50.00", currency="USD",
                                       params={"download_mbps": 100, "upload_mbps": 20})
    account = create_account(name=name)
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=1))
    device = Device(name="tower-1", backend="mikrotik.routeros", host="127.0.0.1",
                    port=router.port, username="admin",
                    secrets=encrypt_json({"password": "r0uter-pass"}),
                    settings={"delinquent_list": "backhaul-delinquent"})
    db.session.add(device)
    db.session.flush()
    credentials.set_credentials(sub.id, username=f"pppoe{sub.id}", password="tenant-pass",
                                device_id=device.id)
    db.session.commit()
    return account, sub, device


def test_delinquency_and_payment_reach_the_router(app, router):
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    account, sub, device = _tenant(router, "Wire Tenant")
    first = reconcile(device.id)
    db.session.commit()
    assert first.record.error is None, first.record.error
    secrets = router.find("/ppp/secret", name=f"pppoe{sub.id}")
    assert len(secrets) == 1 and secrets[0]["password"] == "tenant-pass"

    set_status(account, "delinquent", reason="delinquency")
    db.session.commit()  # the job reconciles this service on its router
    listed = router.find("/ip/firewall/address-list", list="backhaul-delinquent")
    secret = router.find("/ppp/secret", name=f"pppoe{sub.id}")[0]
    assert listed or secret.get("disabled") == "true", "the router cuts the tenant off"

    set_status(account, "active", reason="delinquency_cleared")
    db.session.commit()
    secret = router.find("/ppp/secret", name=f"pppoe{sub.id}")[0]
    assert secret.get("disabled", "false") == "false"
    assert not router.find("/ip/firewall/address-list", list="backhaul-delinquent")

    router.reset_counters()
    again = reconcile(device.id)
    db.session.commit()
    assert again.record.changes == [] and router.writes == 0, "nothing to change: no writes"


def test_an_unreachable_router_is_recorded_not_raised(app, router):
    from backhaul.plugins.network.reconcile import reconcile

    _, _, device = _tenant(router, "Far Tenant")
    router.stop()
    outcome = reconcile(device.id)
    db.session.commit()
    assert outcome.record.error and outcome.retryable
    assert device.last_error == outcome.record.error


def test_test_connection_reads_the_routers_identity_and_version(app, router):
    from backhaul.plugins.network.reconcile import test_connection

    _, _, device = _tenant(router, "Facts Tenant")
    ok, message = test_connection(device.id)
    db.session.commit()
    assert ok, message
    assert device.facts["identity"] == "SimRouter" and device.facts["version"].startswith("7.")
    router.stop()
    ok, message = test_connection(device.id)
    assert not ok and device.last_error
