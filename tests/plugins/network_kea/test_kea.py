"""DHCP through a real ISC Kea: Backhaul writes reservations into Kea's own PostgreSQL schema
(created by ``kea-admin db-init pgsql``), a real ``dhclient`` in a network namespace of the
test's own gets the reserved address over a veth pair, and the lease Kea wrote is read back
onto the service. What Kea holds is read from Kea's tables, not from the backend."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.plugins.network_kea.backend import KeaBackend
from backhaul.sdk import db
from backhaul.sdk.provisioning import DeviceRef, Subscriber, SubscriberState
from backhaul.sdk.testing import kea as kea_kit
from backhaul.sdk.testing.contracts import ProvisioningBackendContract
from backhaul.sdk.testing.pytest_plugin import peer_missing

CIDR, KEA_SUBNET = "100.126.7.0/24", 7
CLIENT_MAC = "02:bb:00:00:07:4d"


@pytest.fixture(scope="module")
def kea():
    why = kea_kit.missing()
    if why:
        peer_missing(f"ISC Kea peer ({why})")
    with kea_kit.KeaPeer({CIDR: KEA_SUBNET}) as peer:
        yield peer


@pytest.fixture
def clean_kea(kea):
    kea.sql("DELETE FROM hosts")
    kea.sql("DELETE FROM lease4")
    return kea


def kea_device(kea, **settings) -> DeviceRef:
    return DeviceRef(id=1, name="kea-1", backend="kea.pgsql", host=kea.host, port=kea.port,
                     username=kea.username, password=kea.password,
                     settings={"database": kea.database, "subnets": {CIDR: KEA_SUBNET},
                               **settings})


def reservations(kea):
    return kea.sql("SELECT encode(dhcp_identifier, 'hex') AS ident, dhcp4_subnet_id, "
                   "host('0.0.0.0'::inet + ipv4_address) AS ip, dhcp4_client_classes "
                   "FROM hosts ORDER BY host_id")


class TestKeaContract(ProvisioningBackendContract):
    @pytest.fixture
    def backend(self):
        return KeaBackend()

    @pytest.fixture
    def device(self, clean_kea):
        self.kea = clean_kea
        return kea_device(clean_kea)

    @pytest.fixture
    def subscriber(self):
        return Subscriber(key="sub-41", account_number="A41", mac="02:bb:00:00:00:41",
                          ipv4="100.126.7.41")

    @pytest.fixture
    def changed_subscriber(self):
        return Subscriber(key="sub-41", account_number="A41", mac="02:bb:00:00:00:41",
                          ipv4="100.126.7.42", state=SubscriberState.REDIRECTED)

    def make_unowned_object(self, device):
        self.kea.sql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, "
                     "dhcp4_subnet_id, ipv4_address) VALUES (decode('02bb000000aa', 'hex'), "
                     "0, 7, '100.126.7.200'::inet - '0.0.0.0'::inet)")

    def assert_unowned_object_intact(self, device):
        assert [r.ip for r in reservations(self.kea)] == ["100.126.7.200"]


def test_a_suspended_subscriber_has_no_reservation_unless_classes_are_asked_for(clean_kea):
    backend = KeaBackend()
    suspended = Subscriber(key="sub-5", account_number="A5", mac="02:bb:00:00:00:05",
                           ipv4="100.126.7.5", state=SubscriberState.SUSPENDED)
    assert not backend.applies_to(kea_device(clean_kea), suspended)
    classed = kea_device(clean_kea, suspend_mode="class")
    assert backend.applies_to(classed, suspended)
    assert backend.render(classed, suspended)["classes"] == "backhaul-suspended"
    outside = Subscriber(key="sub-6", account_number="A6", mac="02:bb:00:00:00:06",
                         ipv4="10.9.9.9")
    assert not backend.applies_to(kea_device(clean_kea), outside), "no Kea subnet for it"
    nobody = Subscriber(key="sub-7", account_number="A7", ipv4="100.126.7.7")
    assert not backend.applies_to(kea_device(clean_kea), nobody), "no DHCP identity"


def test_a_hand_made_reservation_for_the_same_mac_fails_that_change_alone(clean_kea):
    from backhaul.sdk.provisioning import diff

    backend = KeaBackend()
    device = kea_device(clean_kea)
    clean_kea.sql("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, "
                  "ipv4_address) VALUES (decode('02bb00000001', 'hex'), 0, 7, "
                  "'100.126.7.250'::inet - '0.0.0.0'::inet)")
    taken = Subscriber(key="sub-1", account_number="A1", mac="02:bb:00:00:00:01",
                       ipv4="100.126.7.1")
    free = Subscriber(key="sub-2", account_number="A2", mac="02:bb:00:00:00:02",
                      ipv4="100.126.7.2")
    subs = {s.key: s for s in (taken, free)}
    result = backend.apply(device, diff({k: backend.render(device, s) for k, s in subs.items()},
                                        {}, subs))
    assert [c.key for c in result.applied] == ["sub-2"]
    assert [c.key for c, _ in result.failed] == ["sub-1"]
    assert "not Backhaul's" in result.failed[0][1]
    assert sorted(r.ip for r in reservations(clean_kea)) == ["100.126.7.2", "100.126.7.250"]


def test_a_missing_database_or_schema_is_clear_and_not_retried(clean_kea):
    from backhaul.sdk.provisioning import ProvisioningError

    backend = KeaBackend()
    result = backend.test_connection(kea_device(clean_kea, database="bh_kea_nowhere"))
    assert not result.ok and "does not exist" in result.message
    with pytest.raises(ProvisioningError) as raised:
        backend.read(kea_device(clean_kea, database="bh_kea_nowhere"))
    assert not raised.value.retryable
    with pytest.raises(ProvisioningError) as raised:
        backend.read(kea_device(clean_kea, database="postgres"))
    assert "kea-admin db-init" in str(raised.value) and not raised.value.retryable


# ------------------------------------------------------------------ the whole story
@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "network", "network_kea"])
    with application.app_context():
        yield application


def _tenant(kea):
    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.network import credentials, ipam
    from backhaul.plugins.network.models import Device
    from backhaul.sdk.accounts import create_account
    from backhaul.sdk.instances import encrypt_json

    service = catalogue.create_service("Fiber DHCP", "data", "40.00", currency="USD",
                                       params={"download_mbps": 100, "upload_mbps": 20})
    account = create_account(name="DHCP Tenant")
    db.session.flush()
    sub = subscriptions.subscribe(account.id, service=service,
                                  start_date=date.today() - timedelta(days=1))
    device = Device(name="kea-1", backend="kea.pgsql", host=kea.host, port=kea.port,
                    username=kea.username, secrets=encrypt_json({"password": kea.password}),
                    settings={"database": kea.database, "subnets": {CIDR: KEA_SUBNET}})
    db.session.add(device)
    db.session.flush()
    credentials.set_credentials(sub.id, mac=CLIENT_MAC.upper(), device_id=device.id)
    pool = ipam.create_subnet(CIDR, "dhcp", device_id=device.id)
    ipam.assign(sub.id, pool, "100.126.7.77")
    db.session.commit()
    return account, sub, device


def test_the_tenant_gets_the_reserved_address_from_kea_and_loses_it_when_removed(app, clean_kea):
    from backhaul.plugins.billing import subscriptions
    from backhaul.plugins.network.models import Lease
    from backhaul.plugins.network.reconcile import reconcile
    from backhaul.sdk.accounts import set_status

    kea = clean_kea
    assert kea.request(CLIENT_MAC, timeout=6) is None, "no reservation: nothing offered"
    account, sub, device = _tenant(kea)
    # the service's new credentials reached Kea by a job, without anyone reconciling
    assert [(r.ident, r.dhcp4_subnet_id, r.ip) for r in reservations(kea)] == [
        ("02bb0000074d", 7, "100.126.7.77")]
    assert kea.request(CLIENT_MAC) == "100.126.7.77", kea.log()[-3000:]

    again = reconcile(device.id)  # nothing to change; the lease Kea wrote is read back
    db.session.commit()
    assert again.record.changes == [] and again.record.applied == 0
    lease = db.session.scalar(sa.select(Lease).where(Lease.subscription_id == sub.id))
    assert lease is not None and lease.address == "100.126.7.77"
    assert lease.mac == CLIENT_MAC and lease.expires_at is not None

    set_status(account, "delinquent", reason="delinquency")
    db.session.commit()  # the job reconciles this service: suspended -> no reservation
    assert reservations(kea) == []
    kea.sql("DELETE FROM lease4")  # as if the lease ran out
    assert kea.request(CLIENT_MAC, timeout=6) is None

    set_status(account, "active", reason="delinquency_cleared")
    db.session.commit()
    assert [r.ip for r in reservations(kea)] == ["100.126.7.77"]

    kea.sql("UPDATE hosts SET ipv4_address = '100.126.7.99'::inet - '0.0.0.0'::inet")
    drift = reconcile(device.id, dry_run=True)
    db.session.commit()
    assert [(c["action"], c["before"]["ipv4"], c["after"]["ipv4"])
            for c in drift.record.changes] == [("update", "100.126.7.99", "100.126.7.77")]
    repaired = reconcile(device.id)
    db.session.commit()
    assert repaired.record.applied == 1
    assert [r.ip for r in reservations(kea)] == ["100.126.7.77"]

    subscriptions.end_subscription(sub, date.today())
    db.session.commit()  # removing the service removes the reservation
    assert reservations(kea) == []
