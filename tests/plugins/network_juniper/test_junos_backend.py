"""The Junos backend through the real client stack (NAPALM junos driver -> PyEZ -> ncclient ->
paramiko SSH) against the NETCONF simulator.

What the device holds is read from the simulator's own configuration (``display set``), not
from the backend's parse of it.
"""
from __future__ import annotations

import pytest

from backhaul.plugins.network_juniper.backend import JunosBackend, rate
from backhaul.sdk.provisioning import (
    ChangeAction,
    DeviceRef,
    ProvisioningError,
    Subscriber,
    SubscriberState,
    diff,
)
from backhaul.sdk.testing.contracts import ProvisioningBackendContract
from backhaul.sdk.testing.junos import JunosSimulator

G = "set groups backhaul"
HAND = ("set firewall policer customer-gold if-exceeding bandwidth-limit 1g\n"
        "set firewall policer customer-gold if-exceeding burst-size-limit 625000\n"
        "set policy-options prefix-list bh-delinquent 192.0.2.99/32\n"
        "set interfaces ge-0/0/1 unit 900 vlan-id 900")


@pytest.fixture
def sim():
    # one Junos "minute" is 0.4 s here, so commit confirmed rolls back within a test
    with JunosSimulator(password="n3tconf!", minute=0.4) as device:
        yield device


def make_device(sim, **settings):
    return DeviceRef(id=1, name="mx-1", backend="juniper.junos", host="127.0.0.1",
                     port=sim.port, username="admin", password="n3tconf!",
                     settings={"timeout": 5, "confirm_minutes": 1,
                               "business_interface": "ge-0/0/1", **settings})


def sub(n=12, **kw):
    base = dict(key=f"sub-{n}", account_number=f"A{n}", ipv4=f"100.64.9.{n}",
                download_kbps=100000, upload_kbps=20000, plan="100/20")
    base.update(kw)
    return Subscriber(**base)


def reconcile(backend, device, *subs, ok=True):
    desired = {s.key: backend.render(device, s) for s in subs if backend.applies_to(device, s)}
    changes = diff(desired, backend.read(device), {s.key: s for s in subs})
    if changes:
        result = backend.apply(device, changes)
        if ok:
            assert result.ok, result.failed
    return changes


def lines(sim, grep=""):
    return [ln for ln in sim.show("set").splitlines() if grep in ln]


class TestJunosContract(ProvisioningBackendContract):
    @pytest.fixture
    def backend(self):
        return JunosBackend()

    @pytest.fixture
    def device(self, sim):
        self.sim = sim
        return make_device(sim)

    @pytest.fixture
    def subscriber(self):
        return sub(12, vlan=112)

    @pytest.fixture
    def changed_subscriber(self):
        return sub(12, vlan=112, state="suspended")

    def make_unowned_object(self, device):
        self.sim.configure(HAND)

    def assert_unowned_object_intact(self, device):
        for line in HAND.splitlines():
            assert line in lines(self.sim), line


def test_rates_in_junos_short_form():
    assert [rate(k) for k in (100000, 2500, 1000000, 1500)] == ["100m", "2500k", "1g", "1500k"]


def test_business_subscriber_unit_filter_policer_committed_and_second_reconcile_commits_nothing(sim):
    backend, device = JunosBackend(), make_device(sim)
    changes = reconcile(backend, device, sub(12, vlan=112))
    assert [c.action for c in changes] == [ChangeAction.CREATE]
    have = lines(sim)
    for expected in (
            f"{G} firewall policer bh-sub-12-up if-exceeding bandwidth-limit 20m",
            f"{G} firewall policer bh-sub-12-down if-exceeding bandwidth-limit 100m",
            f"{G} firewall policer bh-sub-12-down if-exceeding burst-size-limit 62500",
            f"{G} firewall family inet filter bh-sub-12-in term police from source-address "
            "100.64.9.12/32",
            f"{G} firewall family inet filter bh-sub-12-in term police then policer bh-sub-12-up",
            f"{G} interfaces ge-0/0/1 unit 112 vlan-id 112",
            f"{G} interfaces ge-0/0/1 unit 112 family inet filter input bh-sub-12-in",
            f"{G} routing-options static route 100.64.9.12/32 qualified-next-hop 100.64.9.12 "
            "interface ge-0/0/1.112",
            "set apply-groups backhaul"):
        assert expected in have, expected
    assert (sim.commits, sim.confirmed_commits, sim.auto_rollbacks) == (2, 1, 0), sim.events
    assert sim.pending is None, "the commit confirmed was confirmed"
    sim.reset_counters()
    assert reconcile(backend, device, sub(12, vlan=112)) == []
    assert sim.commits == 0 and sim.rpcs["load-configuration"] == 0


def test_applying_what_is_already_there_commits_nothing(sim):
    backend, device = JunosBackend(), make_device(sim)
    changes = diff({"sub-12": backend.render(device, sub(12))}, {}, {"sub-12": sub(12)})
    assert backend.apply(device, changes).ok and sim.commits == 2
    assert backend.apply(device, changes).ok  # a retried job: same creates again
    assert sim.commits == 2 and sim.rpcs["load-configuration"] == 1


def test_delinquency_moves_the_prefix_into_the_list_payment_moves_it_back(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12), sub(13))
    listed = f"{G} policy-options prefix-list bh-delinquent 100.64.9.12/32"
    assert listed not in lines(sim)
    changes = reconcile(backend, device, sub(12, state="redirected"), sub(13))
    assert [(c.action, c.key) for c in changes] == [(ChangeAction.UPDATE, "sub-12")]
    assert listed in lines(sim)
    assert not lines(sim, "100.64.9.13/32 ") and not lines(sim, "prefix-list bh-delinquent "
                                                                   "100.64.9.13")
    reconcile(backend, device, sub(12), sub(13))
    assert listed not in lines(sim)


def test_hand_edit_is_drift_repaired_and_hand_made_config_untouched(sim):
    backend, device = JunosBackend(), make_device(sim)
    sim.configure(HAND)
    reconcile(backend, device, sub(12))
    sim.configure(f"{G} firewall policer bh-sub-12-down if-exceeding bandwidth-limit 1g")
    changes = reconcile(backend, device, sub(12))
    assert [c.action for c in changes] == [ChangeAction.UPDATE]
    assert f"{G} firewall policer bh-sub-12-down if-exceeding bandwidth-limit 100m" in lines(sim)
    for line in HAND.splitlines():
        assert line in lines(sim)
    assert backend.read(device) == {"sub-12": backend.render(device, sub(12))}


def test_dry_run_diff_is_what_the_apply_commits(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12), sub(13))
    wanted = [sub(12, state="suspended", vlan=112), sub(14)]
    desired = {s.key: backend.render(device, s) for s in wanted}
    dry = diff(desired, backend.read(device), {s.key: s for s in wanted})
    before = set(lines(sim))
    assert set(lines(sim)) == before  # a dry run writes nothing
    result = backend.apply(device, dry)
    assert result.ok
    # what changed on the device is exactly the difference of the renders
    added = set(lines(sim)) - before
    removed = before - set(lines(sim))
    expect_added = {f"{G} {obj} {ln}".rstrip() for c in dry for obj, rel in (c.after or {}).items()
                    for ln in (rel or [""]) if obj not in (c.before or {})
                    or (c.before or {})[obj] != rel} - before
    expect_removed = {f"{G} {obj} {ln}".rstrip() for c in dry
                      for obj, rel in (c.before or {}).items() for ln in (rel or [""])
                      if (c.after or {}).get(obj) != rel} - set(lines(sim))
    assert added - {"set apply-groups backhaul"} == expect_added
    assert removed == expect_removed
    assert "+" in backend.last_diff and "bh-sub-14" in backend.last_diff
    assert diff(desired, backend.read(device), {}) == []


def test_commit_confirmed_not_confirmed_rolls_back_and_next_reconcile_converges(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12))
    before = sim.show()
    # the session drops right after the commit confirmed: no confirm reaches the device
    sim.fault("commit-configuration", "drop-after", when_child="confirmed")
    with pytest.raises(ProvisioningError) as err:
        reconcile(backend, device, sub(12, state="suspended"))
    assert err.value.retryable and "rolls back by itself" in str(err.value)
    assert "bh-delinquent 100.64.9.12/32" in sim.show(), "committed, not yet confirmed"
    assert sim.wait_for_rollback(5)
    assert sim.auto_rollbacks == 1 and sim.show() == before
    reconcile(backend, device, sub(12, state="suspended"))
    assert "bh-delinquent 100.64.9.12/32" in sim.show() and sim.pending is None


def test_pending_commit_confirmed_makes_read_and_apply_wait():
    with JunosSimulator(password="n3tconf!", minute=5.0) as sim:  # a long confirm window
        backend, device = JunosBackend(), make_device(sim)
        reconcile(backend, device, sub(12))
        sim.fault("commit-configuration", "drop-after", when_child="confirmed")
        with pytest.raises(ProvisioningError):
            reconcile(backend, device, sub(12, state="suspended"))
        assert sim.pending is not None
        for call in (lambda: backend.read(device),
                     lambda: backend.apply(device, diff({"sub-13": backend.render(device, sub(13))},
                                                        {}, {"sub-13": sub(13)}))):
            with pytest.raises(ProvisioningError) as err:
                call()
            assert err.value.retryable and "commit confirmed is waiting" in str(err.value)
        assert "bh-sub-13" not in sim.show()


def test_commit_error_discards_and_is_recorded(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12))
    before = sim.show()
    sim.fault("commit-configuration", "error", message="commit failed: (statements "
              "constraint check failed)")
    changes = reconcile(backend, device, sub(12, state="suspended"), sub(13), ok=False)
    result_after = backend.read(device)
    assert sim.show() == before and sim.show("set", "candidate") == before
    assert set(result_after) == {"sub-12"}
    assert len(changes) == 2
    desired = {s.key: backend.render(device, s) for s in (sub(12, state="suspended"), sub(13))}
    again = backend.apply(device, diff(desired, backend.read(device), {}))
    assert again.ok and backend.read(device) == desired


def test_a_refused_statement_fails_that_subscriber_alone(sim):
    backend, device = JunosBackend(), make_device(sim)
    sim.reject_patterns = [r"bh-sub-13-"]
    wanted = [sub(12), sub(13), sub(14)]
    desired = {s.key: backend.render(device, s) for s in wanted}
    result = backend.apply(device, diff(desired, {}, {s.key: s for s in wanted}))
    assert [c.key for c, _ in result.failed] == ["sub-13"]
    assert "refused" in result.failed[0][1] and "syntax error" in result.failed[0][1]
    assert set(backend.read(device)) == {"sub-12", "sub-14"}


def test_lock_held_by_someone_else_is_retryable_and_nothing_changes(sim):
    backend, device = JunosBackend(), make_device(sim)
    sim.hold_lock("noc-operator")
    with pytest.raises(ProvisioningError) as err:
        reconcile(backend, device, sub(12))
    assert err.value.retryable and "locked" in str(err.value)
    assert "noc-operator" in str(err.value), "the reason names who holds the lock"
    assert sim.commits == 0
    sim.release_lock()
    reconcile(backend, device, sub(12))
    assert sim.commits == 2


def test_a_junos_without_commit_revisions_is_a_clear_non_retryable_error(sim):
    sim.fault("get-commit-revision-information", "error", times=None,
              message="syntax error, expecting <command>")
    with pytest.raises(ProvisioningError) as err:
        JunosBackend().read(make_device(sim))
    assert not err.value.retryable and "14.1" in str(err.value)


def test_facts_model_version_serial_and_interfaces(sim):
    result = JunosBackend().test_connection(make_device(sim))
    assert result.ok, result.message
    assert result.facts["model"] == "MX204" and result.facts["version"] == "21.4R3.15"
    assert result.facts["serial"] == "SIM0123456789"
    assert "ge-0/0/1" in result.facts["interfaces"]


def test_wrong_password_is_not_retryable(sim):
    device = make_device(sim)
    bad = DeviceRef(**{**device.__dict__, "password": "nope"})
    with pytest.raises(ProvisioningError) as err:
        JunosBackend().read(bad)
    assert not err.value.retryable and "login refused" in str(err.value)
    assert not JunosBackend().test_connection(bad).ok


def test_unreachable_device_is_retryable(sim):
    device = make_device(sim)
    sim.stop()
    with pytest.raises(ProvisioningError) as err:
        JunosBackend().read(device)
    assert err.value.retryable


def test_slow_device_times_out_retryably(sim):
    device = make_device(sim, timeout=1)
    sim.fault("get-configuration", "delay", seconds=3)
    with pytest.raises(ProvisioningError) as err:
        JunosBackend().read(device)
    assert err.value.retryable


def test_session_dropped_before_commit_leaves_the_device_as_it_was(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12))
    before = sim.show()
    sim.fault("commit-configuration", "drop-before")
    with pytest.raises(ProvisioningError) as err:
        reconcile(backend, device, sub(12, download_kbps=50000))
    assert err.value.retryable
    assert sim.show() == before and sim.show("set", "candidate") == before
    assert sim.lock_owner is None, "the dropped session's lock went with it"
    reconcile(backend, device, sub(12, download_kbps=50000))
    assert f"{G} firewall policer bh-sub-12-down if-exceeding bandwidth-limit 50m" in lines(sim)


def test_subscriber_without_address_or_vlan_is_left_out():
    backend = JunosBackend()
    device = DeviceRef(id=1, name="x", backend="juniper.junos")
    assert not backend.applies_to(device, sub(12, ipv4=None))
    assert backend.applies_to(device, sub(12, ipv4=None, vlan=300))


def test_throttled_state_carries_the_throttle_rate_in_the_policers(sim):
    backend, device = JunosBackend(), make_device(sim)
    reconcile(backend, device, sub(12, state=SubscriberState.THROTTLED, download_kbps=1000,
                                   upload_kbps=1000))
    assert f"{G} firewall policer bh-sub-12-down if-exceeding bandwidth-limit 1m" in lines(sim)
    assert not lines(sim, "prefix-list bh-delinquent 100.64.9.12")
