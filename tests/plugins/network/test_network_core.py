"""The network plugin's core: IPAM (conflicts, concurrency, history), credentials and the
desired-state loop against the test kit's directory backend (issue 12).

Expectations are worked by hand: a /28 has 14 usable addresses; who held an address at a
time follows from the three reassignments written here; the device's objects are what the
business state implies (delinquent -> suspended, paid -> active, moved out -> absent).
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError
from network_helpers import make_tenant

from backhaul.sdk import PluginMeta, db
from backhaul.sdk.testing.provisioning import (
    DirectoryBackend,
    applied_changes,
    device_file,
    edit_by_hand,
)


def _pool(cidr="100.64.1.0/28", kind="pppoe", device_id=None):
    from backhaul.plugins.network import ipam

    subnet = ipam.create_subnet(cidr, kind, device_id=device_id)
    db.session.commit()
    return subnet


# ---------------------------------------------------------------------------------- IPAM
@pytest.mark.parametrize("cidr, kind, field", [
    ("100.64.1.0/33", "pppoe", "cidr"), ("100.64.1.5/24", "pppoe", "cidr"),
    ("not a prefix", "pppoe", "cidr"), ("100.64.1.0/28", "pppoe", "cidr"),   # duplicate
    ("100.64.1.8/29", "pppoe", "cidr"),                                     # inside a pool? ok below
    ("100.64.0.0/16", "pppoe", "cidr"),                                     # would contain
    ("100.64.2.0/24", "carrier", "kind"),
])
def test_bad_prefixes_are_field_errors(app, cidr, kind, field):
    from backhaul.plugins.network import ipam

    _pool()
    if cidr == "100.64.1.8/29":  # a smaller prefix inside an existing one nests under it
        assert ipam.create_subnet(cidr, "static").parent_id is not None
        return
    with pytest.raises(ValidationError) as refused:
        ipam.create_subnet(cidr, kind)
    assert field in refused.value.messages


def test_assignment_conflicts(app):
    from backhaul.plugins.network import ipam

    pool = _pool()
    first = ipam.assign(1, pool)
    assert first.address == "100.64.1.1"  # the network address is never handed out
    for address, why in (("100.64.1.0", "network or broadcast"),
                         ("100.64.1.15", "network or broadcast"),
                         ("100.64.2.1", "outside the pool"), ("100.64.1.1", "another service"),
                         ("banana", "not an IP address")):
        with pytest.raises(ValidationError) as refused:
            ipam.assign(2, pool, address)
        assert why in refused.value.messages["address"][0]
    supernet = ipam.create_subnet("100.64.0.0/16", "supernet")
    with pytest.raises(ValidationError):
        ipam.assign(3, supernet)


def test_address_history_across_three_reassignments(app):
    from backhaul.plugins.network import ipam
    from backhaul.plugins.network.models import Assignment

    pool = _pool()
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for holder, start, end in ((11, t0, t0 + timedelta(hours=3)),
                               (12, t0 + timedelta(hours=3), t0 + timedelta(hours=6)),
                               (13, t0 + timedelta(hours=6), None)):
        row = ipam.assign(holder, pool, "100.64.1.7")
        row.valid_from = start
        if end is not None:
            ipam.release(holder, at=end)
    db.session.commit()
    at = t0 + timedelta(hours=5)  # 2026-03-01 14:00
    assert ipam.holder_of("100.64.1.7", at) == 12
    assert ipam.holder_of("100.64.1.7", t0 + timedelta(minutes=1)) == 11
    assert ipam.holder_of("100.64.1.7", t0 + timedelta(days=2)) == 13
    assert ipam.holder_of("100.64.1.7", t0 - timedelta(days=1)) is None
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 3


def test_twenty_parallel_requests_on_a_small_pool(app):
    """PostgreSQL: 20 requests for the next free address of a /28 (14 usable) get 14
    distinct addresses and 6 clear "exhausted" refusals — never a duplicate."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the race is meaningful on PostgreSQL (SQLite has one writer)")
    from backhaul.plugins.network import ipam
    from backhaul.plugins.network.models import Subnet

    pool_id = _pool().id
    results, barrier = [], threading.Barrier(20)

    def request(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                row = ipam.assign(1000 + n, db.session.get(Subnet, pool_id))
                db.session.commit()
                results.append(row.address)
            except ValidationError as exc:
                db.session.rollback()
                results.append(str(exc.messages))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=request, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    addresses = [r for r in results if r.startswith("100.64.1.")]
    assert len(addresses) == 14 and len(set(addresses)) == 14
    assert sum("exhausted" in r for r in results) == 6


# ------------------------------------------------------------------------ desired state
def _objects(device):
    from backhaul.plugins.network.desired import device_ref

    return DirectoryBackend().read(device_ref(device))


def test_the_whole_story_against_the_test_kit_backend(app):
    from backhaul.plugins.network.desired import device_ref
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    account, sub, device = make_tenant(app)
    key = f"sub-{sub.id}"
    reconcile(device.id)
    db.session.commit()
    assert _objects(device)[key]["state"] == "active"
    assert _objects(device)[key]["rate"] == "100000/20000"
    assert _objects(device)[key]["ipv4"] == "100.64.9.1"

    set_status(account, "delinquent", reason="delinquency")  # what billing's nightly does
    db.session.commit()  # -> account_status_changed -> a job reconciles the service
    assert _objects(device)[key]["state"] == "suspended"

    set_status(account, "active", reason="delinquency_cleared")  # a payment restores
    db.session.commit()
    assert _objects(device)[key]["state"] == "active"

    ref = device_ref(device)
    edit_by_hand(ref, key, rate="999999/999999")  # someone at the router
    dry = reconcile(device.id, dry_run=True)
    db.session.commit()
    assert [(c["action"], c["before"]["rate"], c["after"]["rate"]) for c in
            dry.record.changes] == [("update", "999999/999999", "100000/20000")]
    assert _objects(device)[key]["rate"] == "999999/999999", "a dry run changes nothing"
    before = len(applied_changes(ref))
    repaired = reconcile(device.id)
    db.session.commit()
    assert [c["after"] for c in repaired.record.changes] == [c["after"] for c in
                                                             dry.record.changes]
    assert len(applied_changes(ref)) == before + 1
    assert _objects(device)[key]["rate"] == "100000/20000"

    nothing = reconcile(device.id)
    db.session.commit()
    assert nothing.record.changes == [] and len(applied_changes(ref)) == before + 1

    from backhaul.core.accounts.moves import execute_move_out
    from backhaul.sdk.accounts import create_account  # noqa: F401  (move-out: removal)

    execute_move_out(account)
    db.session.commit()
    assert key not in _objects(device), "a moved-out tenant is removed from the device"


def test_hand_made_objects_survive_and_the_api_answers_for_radius(app):
    from backhaul.plugins.network import api
    from backhaul.plugins.network.desired import device_ref
    from backhaul.plugins.network.reconcile import reconcile

    account, sub, device = make_tenant(app, "Radius Tenant")
    edit_by_hand(device_ref(device), "guest-wifi", owner="operator", rate="1/1")
    reconcile(device.id)
    db.session.commit()
    import json
    assert json.loads(device_file(device_ref(device)).read_text())["guest-wifi"]["rate"] == "1/1"
    found = api.subscriber_for_username(f"user{sub.id}")
    assert found.password.reveal() == "s3cret-pass" and found.state == "active"
    assert "s3cret-pass" not in repr(found)
    assert api.subscriber_for_username("nobody") is None
    assert api.holder_of_address("100.64.9.1", datetime.now(UTC)) == sub.id


def test_credentials_are_sealed_unique_and_revealed_with_an_audit_record(app):
    from backhaul.plugins.network import credentials
    from backhaul.plugins.network.models import Credential

    _, sub, _ = make_tenant(app, "Sealed Tenant")
    row = db.session.scalar(sa.select(Credential).where(Credential.subscription_id == sub.id))
    assert "s3cret-pass" not in row.secret
    raw = db.session.execute(sa.text("SELECT secret FROM network_credential")).scalar()
    assert "s3cret" not in raw
    _, other, _ = make_tenant(app, "Other Tenant")
    with pytest.raises(ValidationError) as refused:
        credentials.set_credentials(other.id, username=f"user{sub.id}")
    assert "username" in refused.value.messages
    with pytest.raises(ValidationError):
        credentials.set_credentials(other.id, mac="zz:zz")
    assert credentials.reveal(row) == "s3cret-pass"
    db.session.commit()
    from backhaul.core.audit.models import AuditEntry
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "network.credential_revealed" in actions


def test_the_staff_pages(app, staff_user, login, csrf_token):
    """The network page shows pools with utilisation, the device page the drift report; the
    account panel shows the service's login and address."""
    from backhaul.plugins.network.desired import device_ref

    account, sub, device = make_tenant(app, "Page Tenant")
    web = app.test_client()
    login(web, staff_user(["network.view", "network.manage", "accounts.account.view"]))
    page = web.get("/network/").get_data(as_text=True)
    assert "100.64.9.0/24" in page and 'value="1"' in page and "mdu-router" in page
    refused = web.post("/network/subnets", data={"cidr": "100.64.9.128/33", "kind": "pppoe",
                                                 "csrf_token": csrf_token(web)},
                       follow_redirects=True).get_data(as_text=True)
    assert "not a network" in refused
    edit_by_hand(device_ref(device), f"sub-{sub.id}", rate="1/1")  # changed by hand
    web.post(f"/network/devices/{device.id}/reconcile", data={
        "dry_run": "1", "csrf_token": csrf_token(web)})
    drift = web.get(f"/network/devices/{device.id}").get_data(as_text=True)
    assert "dry run: 1 difference" in drift and f"sub-{sub.id}" in drift
    panel = web.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert f"user{sub.id}" in panel and "100.64.9.1" in panel and "s3cret-pass" not in panel
    viewer = app.test_client()
    login(viewer, staff_user(["network.view"]))
    assert viewer.post(f"/network/devices/{device.id}/reconcile",
                       data={"csrf_token": csrf_token(viewer)}).status_code == 403


def test_demo_data_gives_demo_tenants_logins_and_addresses_once(make_app):
    from backhaul.plugins.network.models import Assignment, Credential
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.testing import run_cli

    app = make_app(plugins=["billing", "network"])
    with app.app_context():
        assert run_cli(app, "demo", "load").exit_code == 0
        creds = db.session.scalar(sa.select(sa.func.count(Credential.id)))
        assert creds >= 2
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == creds
        create_account(name="Operator's own")
        db.session.commit()
        assert run_cli(app, "demo", "load").exit_code == 0
        assert db.session.scalar(sa.select(sa.func.count(Credential.id))) == creds


def test_a_nas_is_found_by_its_address_with_its_radius_secret(app):
    from backhaul.plugins.network import api
    from backhaul.plugins.network.models import Device
    from backhaul.sdk.instances import encrypt_json

    db.session.add(Device(name="bras-1", backend="testkit.directory", host="10.0.0.1",
                          secrets=encrypt_json({"radius_secret": "testing123"}), settings={}))
    db.session.commit()
    nas = api.nas_for_address("10.0.0.1")
    assert nas.device.name == "bras-1" and nas.secret.reveal() == "testing123"
    assert "testing123" not in repr(nas)
    assert api.nas_for_address("10.0.0.2") is None


def test_ipv6_prefix_delegation_pool_hands_out_prefixes_and_answers_who_held_an_address(app):
    from datetime import timedelta

    from marshmallow import ValidationError
    from network_helpers import make_tenant

    from backhaul.plugins.network import ipam
    from backhaul.plugins.network.desired import desired_state
    from backhaul.sdk import utcnow

    _, first, device = make_tenant(app, "PD One")
    _, second, _ = make_tenant(app, "PD Two")
    with pytest.raises(ValidationError) as refused:
        ipam.create_subnet("2001:db8:100::/48", "pd")
    assert "delegatedLength" in refused.value.messages
    with pytest.raises(ValidationError):
        ipam.create_subnet("100.70.0.0/16", "pd", delegated_length=24)
    pool = ipam.create_subnet("2001:db8:100::/48", "pd", device_id=device.id,
                              delegated_length=56)
    assert ipam.utilisation(pool) == (0, 256)
    a = ipam.assign(first.id, pool)
    b = ipam.assign(second.id, pool)
    assert (a.address, b.address) == ("2001:db8:100::/56", "2001:db8:100:100::/56")
    with pytest.raises(ValidationError) as taken:
        ipam.assign(first.id, pool, "2001:db8:100:100::/56")
    assert "delegated to another service" in str(taken.value.messages)
    with pytest.raises(ValidationError):
        ipam.assign(first.id, pool, "2001:db8:100:180::/57")  # not a /56
    db.session.commit()
    later = utcnow() + timedelta(seconds=1)
    assert ipam.holder_of("2001:db8:100:1ab::5", later) == second.id
    assert ipam.holder_of("2001:db8:100:ff::1", later) == first.id
    state = {s.key: s for s in desired_state(device.id).subscribers}
    assert state[f"sub-{first.id}"].ipv6_prefix == "2001:db8:100::/56"


def test_a_night_of_delinquency_reaches_the_router_in_one_reconcile(
        make_app, temp_plugin, tmp_path, redis_url, rq_burst):
    """Billing's nightly run changes many accounts; each change is its own event, its own
    transaction and its own job. With a real Redis and RQ worker that starts after them, the
    first job takes every pending service of the router (one reconcile record, all four
    tenants suspended) and the other jobs end without contacting it."""
    import sqlalchemy as sa

    from backhaul.plugins.network.models import PendingReconcile, Reconcile
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    app = make_app(plugins=["billing", "network"], extra_plugins=[kit], redis_url=redis_url)
    app.device_folder = tmp_path / "devices"
    app.device_folder.mkdir()
    with app.app_context():
        tenants = [make_tenant(app, name=f"Tenant {n}") for n in range(5)]
        device = tenants[0][2]
        rq_burst(app)  # what setting them up queued
        reconcile(device.id)
        db.session.commit()
        before = db.session.scalar(sa.select(sa.func.max(Reconcile.id)))
        for account, _, _ in tenants[:4]:
            set_status(account, "delinquent", reason="delinquency")
            db.session.commit()  # one event, one transaction, one job each
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingReconcile)) == 4
        rq_burst(app)
        db.session.expire_all()
        runs = db.session.scalars(sa.select(Reconcile).where(Reconcile.id > before)).all()
        assert [(r.device_id, r.applied) for r in runs] == [(device.id, 4)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingReconcile)) == 0
        states = {key: o["state"] for key, o in _objects(device).items()}
        assert [states[f"sub-{sub.id}"] for _, sub, _ in tenants] == [
            "suspended", "suspended", "suspended", "suspended", "active"]
