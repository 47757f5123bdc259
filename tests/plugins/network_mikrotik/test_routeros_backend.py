"""The RouterOS backend, through the real client library (librouteros) against the simulator."""
from __future__ import annotations

import random
import socket
import time

import librouteros
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from backhaul.plugins.network_mikrotik.backend import RouterOSBackend
from backhaul.sdk.provisioning import (
    ChangeAction,
    DeviceRef,
    ProvisioningError,
    Subscriber,
    SubscriberState,
    diff,
)
from backhaul.sdk.testing.contracts import ProvisioningBackendContract
from backhaul.sdk.testing.routeros import RouterOSSimulator, encode_length

SECRET = "/ppp/secret"
QUEUE = "/queue/simple"
ALIST = "/ip/firewall/address-list"
LEASE = "/ip/dhcp-server/lease"


@pytest.fixture
def router():
    with RouterOSSimulator(version="7.16.2", password="s3cret!") as sim:
        yield sim


def make_device(router, **settings):
    return DeviceRef(id=1, name="core-1", backend="mikrotik.routeros", host="127.0.0.1",
                     port=router.port, username="admin", password="s3cret!",
                     settings={"timeout": 3, **settings})


def sub(n=12, **kw):
    base = dict(key=f"sub-{n}", account_number=f"A{n}", username=f"user{n}",
                password=f"pw-{n}-xyz", mac=f"AA:BB:CC:00:00:{n:02X}", ipv4=f"10.0.0.{n}",
                download_kbps=20000, upload_kbps=5000, plan="20/5")
    base.update(kw)
    return Subscriber(**base)


def reconcile(backend, device, *subs):
    desired = {s.key: backend.render(device, s) for s in subs}
    changes = diff(desired, backend.read(device), {s.key: s for s in subs})
    if changes:
        result = backend.apply(device, changes)
        assert result.ok, result.failed
    return changes


class TestRouterOSContract(ProvisioningBackendContract):
    @pytest.fixture
    def backend(self):
        return RouterOSBackend()

    @pytest.fixture
    def device(self, router):
        self.router = router
        return make_device(router, hotspot=True)

    @pytest.fixture
    def subscriber(self):
        return sub(12)

    @pytest.fixture
    def changed_subscriber(self):
        return sub(12, state=SubscriberState.REDIRECTED, download_kbps=1000, upload_kbps=1000)

    def make_unowned_object(self, device):
        self.router.add(SECRET, name="handmade", password="x", profile="default")
        self.router.add(ALIST, list="backhaul-delinquent", address="10.9.9.9", comment="manual")

    def assert_unowned_object_intact(self, device):
        assert self.router.find(SECRET, name="handmade")
        assert self.router.find(ALIST, address="10.9.9.9")


def test_new_subscriber_is_provisioned_and_second_reconcile_writes_nothing(router):
    backend, device = RouterOSBackend(), make_device(router)
    changes = reconcile(backend, device, sub(1), sub(2))
    assert [c.action for c in changes] == [ChangeAction.CREATE] * 2
    secret = router.find(SECRET, name="user1")[0]
    assert secret["comment"] == "backhaul:sub-1" and secret["password"] == "pw-1-xyz"
    assert secret["profile"] == "backhaul-20000k-5000k" and secret["service"] == "pppoe"
    assert router.find("/ppp/profile", name="backhaul-20000k-5000k")[0]["rate-limit"] == "5M/20M"
    assert router.find(QUEUE, target="10.0.0.1/32")[0]["max-limit"] == "5M/20M"
    assert router.find(LEASE, **{"mac-address": "AA:BB:CC:00:00:01"})[0]["address"] == "10.0.0.1"
    assert not router.find(ALIST)
    router.reset_counters()
    assert reconcile(backend, device, sub(1), sub(2)) == []
    assert router.writes == 0
    assert router.logins == 3  # read+apply, then one read
    assert router.commands == 1 + 5  # login, each menu printed once (4 + profiles)


def test_delinquency_lists_and_kicks_payment_restores(router):
    backend, device = RouterOSBackend(), make_device(router)
    reconcile(backend, device, sub(3))
    router.connect_session("user3", "10.0.0.3")
    router.connect_session("someone-else", "10.0.0.99")
    reconcile(backend, device, sub(3, state=SubscriberState.SUSPENDED))
    assert router.find(ALIST, list="backhaul-delinquent", address="10.0.0.3")
    assert router.find(SECRET, name="user3")[0]["disabled"] == "true"
    assert [a["name"] for a in router.find("/ppp/active")] == ["someone-else"]  # kicked
    changes = reconcile(backend, device, sub(3))  # paid
    assert [c.action for c in changes] == [ChangeAction.UPDATE]
    assert not router.find(ALIST) and router.find(SECRET, name="user3")[0]["disabled"] == "false"


def test_unused_backhaul_profiles_are_removed_handmade_ones_kept(router):
    backend, device = RouterOSBackend(), make_device(router)
    router.add("/ppp/profile", name="vip", rate_limit="1G/1G")
    reconcile(backend, device, sub(20), sub(21, download_kbps=50000, upload_kbps=10000))
    names = {p["name"] for p in router.find("/ppp/profile")}
    assert names == {"vip", "backhaul-20000k-5000k", "backhaul-50000k-10000k"}
    reconcile(backend, device, sub(20), sub(21))  # 21 moves to the 20/5 plan
    assert {p["name"] for p in router.find("/ppp/profile")} == {"vip", "backhaul-20000k-5000k"}
    reconcile(backend, device)
    assert [p["name"] for p in router.find("/ppp/profile")] == ["vip"]


def test_a_trap_fails_one_change_and_the_rest_is_applied(router):
    backend, device = RouterOSBackend(), make_device(router)
    router.trap_values = {"remote-address": "10.0.0.31"}
    subs = [sub(30), sub(31), sub(32)]
    desired = {s.key: backend.render(device, s) for s in subs}
    result = backend.apply(device, diff(desired, backend.read(device), {s.key: s for s in subs}))
    assert [c.key for c, _ in result.failed] == ["sub-31"]
    assert "invalid value for argument remote-address" in result.failed[0][1]
    assert {c.key for c in result.applied} == {"sub-30", "sub-32"}
    router.trap_values = {}
    reconcile(backend, device, *subs)  # the next pass repairs what was left
    assert backend.read(device) == desired


def test_a_handmade_profile_with_our_name_and_another_rate_is_reported(router):
    backend, device = RouterOSBackend(), make_device(router)
    router.add("/ppp/profile", name="backhaul-20000k-5000k", rate_limit="1M/1M")
    s = sub(40)
    result = backend.apply(device, diff({s.key: backend.render(device, s)}, {}, {s.key: s}))
    assert not result.ok and "was not made by Backhaul" in result.failed[0][1]
    assert router.find("/ppp/profile", name="backhaul-20000k-5000k")[0]["rate-limit"] == "1M/1M"


def test_hotspot_user_suspended_is_disabled_and_logged_out(router):
    backend = RouterOSBackend()
    device = make_device(router, hotspot=True, ppp=False, hotspot_profile="guests")
    reconcile(backend, device, sub(50))
    user = router.find("/ip/hotspot/user", name="user50")[0]
    assert user["profile"] == "guests" and user["comment"] == "backhaul:sub-50"
    assert not router.find(SECRET)
    router.connect_hotspot("user50", "10.0.0.50")
    router.connect_hotspot("visitor", "10.0.0.77")
    reconcile(backend, device, sub(50, state=SubscriberState.SUSPENDED))
    assert router.find("/ip/hotspot/user", name="user50")[0]["disabled"] == "true"
    assert [a["user"] for a in router.find("/ip/hotspot/active")] == ["visitor"]


def test_throttle_by_address_list_setting(router):
    backend = RouterOSBackend()
    device = make_device(router, throttle_by="address-list", delinquent_list="slow")
    reconcile(backend, device, sub(4, state=SubscriberState.THROTTLED))
    assert router.find(ALIST, list="slow", address="10.0.0.4")


def test_drift_by_hand_is_reported_and_repaired_handmade_left_alone(router):
    backend, device = RouterOSBackend(), make_device(router)
    reconcile(backend, device, sub(5), sub(6))
    hand = router.add(QUEUE, name="office", target="192.168.1.0/24", max_limit="1M/1M")
    q = router.find(QUEUE, comment="backhaul:sub-5")[0]
    router.set(QUEUE, q[".id"], max_limit="100M/100M")
    router.remove(SECRET, router.find(SECRET, name="user6")[0][".id"])
    s5 = router.find(SECRET, name="user5")[0]
    router.set(SECRET, s5[".id"], password="changed-by-hand")
    changes = reconcile(backend, device, sub(5), sub(6))
    assert {c.key: c.action for c in changes} == {"sub-5": ChangeAction.UPDATE,
                                                  "sub-6": ChangeAction.UPDATE}
    assert changes[0].before["queue"]["max_limit"] == "100000000/100000000"
    assert "changed-by-hand" not in repr([c.summary() for c in changes])
    assert router.find(QUEUE, comment="backhaul:sub-5")[0]["max-limit"] == "5M/20M"
    assert router.find(SECRET, name="user5")[0]["password"] == "pw-5-xyz"
    assert len(router.find(SECRET, name="user6")) == 1
    assert reconcile(backend, device, sub(5), sub(6)) == []
    assert router.find(QUEUE, name="office")[0][".id"] == hand


def test_a_handmade_object_with_the_same_name_is_a_failure_not_a_takeover(router):
    backend, device = RouterOSBackend(), make_device(router)
    router.add(SECRET, name="user7", password="theirs")
    s = sub(7)
    changes = diff({s.key: backend.render(device, s)}, backend.read(device), {s.key: s})
    result = backend.apply(device, changes)
    assert not result.ok and "same name already exists" in result.failed[0][1]
    assert router.find(SECRET, name="user7")[0]["password"] == "theirs"


def test_adopting_handmade_objects_when_migrating(router):
    backend = RouterOSBackend()
    device = make_device(router, adopt_existing=True)
    router.add(SECRET, name="user7", password="theirs", profile="default")
    router.add(LEASE, address="10.0.0.7", mac_address="AA:BB:CC:00:00:07")
    router.add(SECRET, name="stranger", password="x")
    assert backend.existing_secrets(device)[0]["name"] == "user7"
    assert "password" not in backend.existing_secrets(device)[0]
    changes = reconcile(backend, device, sub(7))
    assert [c.action for c in changes] == [ChangeAction.CREATE]
    secrets = router.find(SECRET, name="user7")
    assert len(secrets) == 1 and secrets[0]["comment"] == "backhaul:sub-7"
    assert secrets[0]["password"] == "pw-7-xyz"
    assert len(router.find(LEASE)) == 1
    assert reconcile(backend, device, sub(7)) == []
    assert router.find(SECRET, name="stranger")[0]["comment"] == ""
    assert [s["name"] for s in backend.existing_secrets(device)] == ["stranger"]


def test_password_drift_can_be_turned_off(router):
    backend = RouterOSBackend()
    device = make_device(router, check_passwords=False)
    reconcile(backend, device, sub(9))
    s9 = router.find(SECRET, name="user9")[0]
    assert s9["password"] == "pw-9-xyz"  # still sent on create
    router.set(SECRET, s9[".id"], password="by-hand")
    router.reset_counters()
    assert reconcile(backend, device, sub(9)) == [] and router.writes == 0
    assert reconcile(backend, make_device(router), sub(9))  # with the check, it is drift


def test_routeros_upgrade_6_to_7_is_not_drift(router):
    router.upgrade("6.49.10")
    backend, device = RouterOSBackend(), make_device(router)
    reconcile(backend, device, sub(8))
    assert router.find(QUEUE)[0]["max-limit"] == "5000000/20000000"  # v6 form
    assert backend.test_connection(device).facts["version"] == "6.49.10"
    router.upgrade("7.16.2")
    assert router.find(QUEUE)[0]["max-limit"] == "5M/20M"  # v7 form
    router.reset_counters()
    assert reconcile(backend, device, sub(8)) == [] and router.writes == 0


def test_test_connection_reads_facts(router):
    result = RouterOSBackend().test_connection(make_device(router))
    assert result.ok
    assert result.facts["identity"] == "SimRouter" and result.facts["serial"] == "HE40812ABCD"
    assert result.facts["version"] == "7.16.2" and result.facts["model"]


def test_wrong_password_is_not_retryable(router):
    device = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                       port=router.port, username="admin", password="wrong")
    with pytest.raises(ProvisioningError) as err:
        RouterOSBackend().read(device)
    assert not err.value.retryable and "wrong username or password" in str(err.value)
    result = RouterOSBackend().test_connection(device)
    assert not result.ok and "login refused" in result.message
    assert "wrong" not in result.message.replace("wrong username", "")


def test_unreachable_router_is_retryable_and_clear():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    device = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                       port=port, username="admin", password="x", settings={"timeout": 1})
    with pytest.raises(ProvisioningError) as err:
        RouterOSBackend().read(device)
    assert err.value.retryable and "connection refused" in str(err.value)


def test_slow_router_times_out(router):
    router.delay = 2.0
    device = make_device(router, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ProvisioningError) as err:
        RouterOSBackend().read(device)
    assert err.value.retryable and "timeout" in str(err.value)
    assert time.monotonic() - started < 2.5
    router.delay = 0


def test_connection_dropped_mid_apply_converges_without_duplicates(router):
    backend, device = RouterOSBackend(), make_device(router)
    rnd = random.Random(14)
    interrupted = 0
    for attempt in range(50):
        # alternate the desired state so every pass has work to do
        state = [SubscriberState.ACTIVE, SubscriberState.SUSPENDED][attempt % 2]
        wanted = [sub(n, state=state, download_kbps=1000 * (attempt + 1))
                  for n in range(10, 10 + rnd.randint(2, 6))]
        router.drop_after_writes = rnd.randint(0, 12)
        router.drop_mid_sentence = rnd.random() < 0.3
        try:
            reconcile(backend, device, *wanted)
        except ProvisioningError as exc:
            assert exc.retryable
            interrupted += 1
        router.drop_after_writes = None
        router.drop_mid_sentence = False
        for _ in range(2):
            reconcile(backend, device, *wanted)
        desired = {s.key: backend.render(device, s) for s in wanted}
        assert backend.read(device) == desired, attempt
        for menu in (SECRET, QUEUE, LEASE, ALIST):
            comments = [i["comment"] for i in router.find(menu)]
            assert len(comments) == len(set(comments)), (attempt, menu)
    assert interrupted >= 25, interrupted  # the faults really hit applies


def test_tls(tmp_path):
    pytest.importorskip("cryptography")
    cert, key = _self_signed(tmp_path)
    with RouterOSSimulator(tls=True, certfile=cert, keyfile=key, password="p") as sim:
        device = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                           port=sim.port, username="admin", password="p",
                           settings={"tls": True, "ca_file": cert, "timeout": 3})
        assert RouterOSBackend().test_connection(device).ok
        untrusted = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                              port=sim.port, username="admin", password="p",
                              settings={"tls": True, "timeout": 3})
        result = RouterOSBackend().test_connection(untrusted)
        assert not result.ok and "certificate" in result.message
        insecure = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                             port=sim.port, username="admin", password="p",
                             settings={"tls": True, "tls_verify": False, "timeout": 3})
        assert RouterOSBackend().test_connection(insecure).ok


def _self_signed(tmp_path):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "router")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
                ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


# ----------------------------------------------------------------------- the simulator itself
def test_simulator_protocol_with_librouteros(router):
    api = librouteros.connect("127.0.0.1", "admin", "s3cret!", port=router.port, timeout=3)
    secrets = api.path("ppp", "secret")
    first = secrets.add(name="a", password="1", comment="x")
    second = secrets.add(name="b", password="2")
    assert (first, second) == ("*1", "*2")
    with pytest.raises(librouteros.exceptions.TrapError, match="same name already exists"):
        secrets.add(name="A", password="3")
    with pytest.raises(librouteros.exceptions.TrapError, match="no such item"):
        secrets.remove("*99")
    rows = list(api.rawCmd("/ppp/secret/print", "=.proplist=name", "?name=a", "?name=b", "?#|"))
    assert rows == [{"name": "a"}, {"name": "b"}]
    assert [r["name"] for r in api.rawCmd("/ppp/secret/print", "?comment=x", "?#!")] == ["b"]
    assert [r["name"] for r in api.rawCmd("/ppp/secret/print", "?-comment")] == []
    assert [r["name"] for r in api.rawCmd("/ppp/secret/print", "?password", "?name=b",
                                          "?#&")] == ["b"]
    router.add(QUEUE, name="q1", target="10.1.1.1/32", max_limit="1M/2M")
    router.add(QUEUE, name="q2", target="10.1.1.2/32", max_limit="1M/2M")
    assert [r["name"] for r in api.rawCmd("/queue/simple/print", "?>name=q1")] == ["q2"]
    assert [r["name"] for r in api.rawCmd("/queue/simple/print", "?<name=q2")] == ["q1"]
    api.protocol.writeSentence("/ppp/secret/print", "=.proplist=.id,name", ".tag=7")
    assert api.protocol.readSentence() == ("!re", (".tag=7", "=.id=*1", "=name=a"))
    api.protocol.readSentence()
    assert api.protocol.readSentence() == ("!done", (".tag=7",))
    secrets.update(**{".id": first, "disabled": True})
    assert router.find(SECRET, name="a")[0]["disabled"] == "true"
    with pytest.raises(librouteros.exceptions.TrapError, match="input does not match"):
        secrets.update(**{".id": first, "service": "carrier-pigeon"})
    api.close()


def test_simulator_empty_reply_on_718():
    with RouterOSSimulator(version="7.18.1", password="p") as sim:
        api = librouteros.connect("127.0.0.1", "admin", "p", port=sim.port, timeout=3)
        api.protocol.writeSentence("/queue/simple/print")
        assert api.protocol.readSentence()[0] == "!empty"
        assert api.protocol.readSentence()[0] == "!done"


@pytest.mark.parametrize("payload", [
    b"\xf8\x00\x00", b"\x05/logi", b"\xff" * 8, encode_length(2_000_000) + b"abc",
    b"\x06/login\x05=name", random.Random(1).randbytes(300),
])
def test_fuzzed_input_never_hangs_simulator_or_backend(router, payload):
    with socket.create_connection(("127.0.0.1", router.port), timeout=2) as s:
        try:  # the simulator may answer !fatal and close before we are done writing
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except OSError:
            pass
    # the simulator still serves everyone else
    assert RouterOSBackend().test_connection(make_device(router)).ok


GARBAGE = [
    b"\x7f!re\x00garbage",                      # a word shorter than its length, then silence
    b"\xf8\x01\x02",                              # a control byte that is no length
    b"\xf0\x7f\xff\xff\xff" + b"x" * 10,           # a 2 GB word announced
    b"\x05!done\x00",                             # "!done" to /login, then a print never answered
    b"\x06!fatal\x0cgo away now\x00",            # !fatal at login
    random.Random(7).randbytes(64),
]


@pytest.mark.parametrize("reply", GARBAGE, ids=["short-word", "control-byte", "2GB-word", "done-then-silence", "fatal", "random"])
def test_backend_against_a_garbage_speaking_server(reply):
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(1024)
            conn.sendall(reply)
            time.sleep(1.5)
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    device = DeviceRef(id=1, name="r", backend="mikrotik.routeros", host="127.0.0.1",
                       port=port, username="admin", password="x", settings={"timeout": 0.5})
    started = time.monotonic()
    with pytest.raises(ProvisioningError) as err:
        RouterOSBackend().read(device)
    assert str(err.value) and time.monotonic() - started < 1.4
    assert not RouterOSBackend().test_connection(device).ok
    srv.close()


def test_fatal_mid_session_is_a_retryable_error(router):
    backend, device = RouterOSBackend(), make_device(router)
    router.fatal_next = True
    with pytest.raises(ProvisioningError) as err:
        backend.read(device)
    assert err.value.retryable and "connection lost" in str(err.value)
    assert backend.read(device) == {}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), cut=st.integers(0, 40))
def test_fuzzed_sentences_never_wedge_the_simulator(router, data, cut):
    framed = b"".join(encode_length(len(w)) + w for w in (b"/login", b"=name=admin")) + data
    with socket.create_connection(("127.0.0.1", router.port), timeout=2) as s:
        try:  # the simulator may answer !fatal and close before we are done writing
            s.sendall(framed[: len(framed) - cut] if cut < len(framed) else data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except OSError:
            pass
    api = librouteros.connect("127.0.0.1", "admin", "s3cret!", port=router.port, timeout=2)
    assert list(api.rawCmd("/system/identity/print")) == [{"name": "SimRouter"}]
    api.close()


def test_settings_schema_marks_password_secret():
    backend = RouterOSBackend()
    assert "password" in backend.secret_fields
    loaded = backend.validate_settings({})
    assert loaded["delinquent_list"] == "backhaul-delinquent" and loaded["tls"] is False
    with pytest.raises(ValidationError) as err:
        backend.validate_settings({"throttle_by": "magic"})
    assert "throttle_by" in err.value.messages


def test_round_trips_do_not_grow_per_subscriber(router):
    backend, device = RouterOSBackend(), make_device(router)
    trips = {}
    for n in (20, 400):
        subs = [sub(i % 250 + 1, key=f"sub-{i}", username=f"u{i}", mac=None,
                    ipv4=f"10.{i // 250}.{i % 250}.1") for i in range(n)]
        reconcile(backend, device, *subs)
        before = backend.round_trips
        assert reconcile(backend, device, *subs) == []
        trips[n] = backend.round_trips - before
    assert trips[20] == trips[400] == 6  # login + one print per menu (4) + profiles
