"""The office reaches a Juniper router: the network plugin keeps a (simulated) Junos device in
step with the business, through the Juniper backend, NAPALM's junos driver, PyEZ, ncclient and
a real SSH connection.

What the device holds after each business event is read from the simulator's own
configuration, and "nothing was committed" from its commit counter.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.testing.junos import JunosSimulator

GROUP = "set groups backhaul"


@pytest.fixture
def sim():
    with JunosSimulator(password="n3tconf!", minute=0.4) as device:
        yield device


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "network", "network_juniper"])
    with application.app_context():
        yield application


def _tenant(sim, name: str):
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    service = catalogue.create_service(f"Business {name}", "data", "150.00", currency="USD",
                                       params={"download_mbps": 100, "upload_mbps": 20})
    account = create_account(name=name)
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=1))
    device = Device(name="mx-edge-1", backend="juniper.junos", host="127.0.0.1",
                    port=sim.port, username="admin",
                    secrets=encrypt_json({"password": "n3tconf!"}),
                    settings={"timeout": 5, "confirm_minutes": 1})
    db.session.add(device)
    db.session.flush()
    credentials.set_credentials(sub.id, username=f"biz{sub.id}", password="tenant-pass",
                                device_id=device.id)
    pool = ipam.create_subnet("100.64.20.0/24", "static", device_id=device.id)
    address = ipam.assign(sub.id, pool).address
    db.session.commit()
    return account, sub, device, address


def _set(sim) -> list[str]:
    return sim.show("set").splitlines()


def test_delinquency_payment_drift_dry_run_and_no_op_on_a_junos_device(app, sim):
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    account, sub, device, address = _tenant(sim, "Acme Ltd")
    key, host = f"sub-{sub.id}", f"{address}/32"
    listed = f"{GROUP} policy-options prefix-list bh-delinquent {host}"
    first = reconcile(device.id)
    db.session.commit()
    assert first.record.error is None, first.record.error
    assert f"{GROUP} firewall policer bh-{key}-down if-exceeding bandwidth-limit 100m" in _set(sim)
    assert (sim.confirmed_commits, sim.pending) == (1, None), "committed confirmed, confirmed"
    assert listed not in _set(sim)

    set_status(account, "delinquent", reason="delinquency")  # billing's nightly run
    db.session.commit()  # -> account_status_changed -> the job reconciles the service
    assert listed in _set(sim), "the device's own filters act on the delinquent list"

    set_status(account, "active", reason="delinquency_cleared")  # a payment restores
    db.session.commit()
    assert listed not in _set(sim)

    # someone at the router turns the tenant's policer up by hand
    sim.configure(f"{GROUP} firewall policer bh-{key}-down if-exceeding bandwidth-limit 1g")
    sim.reset_counters()
    dry = reconcile(device.id, dry_run=True)
    db.session.commit()
    assert [c["action"] for c in dry.record.changes] == ["update"]
    change = dry.record.changes[0]
    obj = f"firewall policer bh-{key}-down"
    assert "if-exceeding bandwidth-limit 1g" in change["before"][obj]
    assert "if-exceeding bandwidth-limit 100m" in change["after"][obj]
    assert sim.commits == 0 and sim.rpcs["load-configuration"] == 0, "a dry run writes nothing"
    assert f"{GROUP} {obj} if-exceeding bandwidth-limit 1g" in _set(sim)

    repaired = reconcile(device.id)
    db.session.commit()
    assert repaired.record.changes == dry.record.changes, "the apply does what the dry run said"
    assert repaired.record.applied == 1 and repaired.record.error is None
    assert f"{GROUP} {obj} if-exceeding bandwidth-limit 100m" in _set(sim)
    assert sim.commits == 2 and sim.rpcs["load-configuration"] == 1

    sim.reset_counters()
    nothing = reconcile(device.id)
    db.session.commit()
    assert nothing.record.changes == [] and nothing.record.error is None
    assert sim.commits == 0 and sim.rpcs["load-configuration"] == 0, "nothing to change: no commit"


def test_unconfirmed_commit_rolls_back_and_the_next_reconcile_converges(app, sim):
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    account, sub, device, address = _tenant(sim, "Dropped Ltd")
    reconcile(device.id)
    db.session.commit()
    before = sim.show()
    sim.fault("commit-configuration", "drop-after", when_child="confirmed")
    set_status(account, "delinquent", reason="delinquency")
    db.session.flush()
    outcome = reconcile(device.id)
    assert outcome.retryable and "rolls back by itself" in outcome.record.error
    assert device.last_error == outcome.record.error
    db.session.commit()  # the status change's own job finds the commit still unconfirmed
    assert "commit confirmed is waiting" in device.last_error
    assert sim.wait_for_rollback(5) and sim.auto_rollbacks == 1
    assert sim.show() == before, "Junos went back to the configuration before the commit"
    again = reconcile(device.id)
    db.session.commit()
    assert again.record.error is None and device.last_error is None
    assert f"{GROUP} policy-options prefix-list bh-delinquent {address}/32" in _set(sim)


def test_a_refused_commit_is_discarded_and_recorded(app, sim):
    from backhaul.plugins.network.models import Reconcile

    sim.fault("commit-configuration", "error", message="configuration check-out failed")
    _, sub, device, _ = _tenant(sim, "Refused Ltd")  # its jobs reconcile the new service
    first = db.session.scalars(sa.select(Reconcile).order_by(Reconcile.id)).first()
    assert first.error == f"sub-{sub.id}: commit refused: configuration check-out failed"
    assert first.applied == 0
    # the refused commit left nothing behind; the service's next job (its address) converged
    assert sim.events == ["commit confirmed, rollback in 1mins", "commit confirmed: confirmed",
                          "commit"]
    assert device.last_error is None and f"bh-sub-{sub.id}-down" in sim.show()
    assert sim.show("set", "candidate") == sim.show()


def test_test_connection_keeps_facts_and_interfaces(app, sim):
    from backhaul.plugins.network.reconcile import test_connection

    _, _, device, _ = _tenant(sim, "Facts Ltd")
    ok, message = test_connection(device.id)
    db.session.commit()
    assert ok, message
    assert device.facts["model"] == "MX204" and device.facts["serial"] == "SIM0123456789"
    assert device.facts["version"] == "21.4R3.15" and "xe-0/1/0" in device.facts["interfaces"]
    sim.stop()
    ok, _ = test_connection(device.id)
    assert not ok and device.last_error


def test_a_business_vlan_set_on_the_service_page_becomes_an_interface_unit(app, sim):
    """The VLAN is the network plugin's (credentials.vlan, set from the service page or
    networkSetCredentials); the Junos backend turns it into an interface unit."""
    from backhaul.plugins.network import credentials
    from backhaul.plugins.network.models import Device

    account, sub, device, address = _tenant(sim, "Vlan Corp")
    device = db.session.get(Device, device.id)
    device.settings = {**device.settings, "business_interface": "ge-0/0/1"}
    db.session.commit()
    with pytest.raises(Exception) as refused:
        credentials.set_credentials(sub.id, vlan=5000)
    assert "vlan" in str(refused.value)
    db.session.rollback()
    credentials.set_credentials(sub.id, vlan=310)
    db.session.commit()  # the job reconciles the service on its device
    lines = _set(sim)
    assert any("interfaces ge-0/0/1 unit 310 vlan-id 310" in line for line in lines), lines
    credentials.set_credentials(sub.id, vlan=0)  # cleared: the unit goes
    db.session.commit()
    assert not any("unit 310" in line for line in _set(sim))
