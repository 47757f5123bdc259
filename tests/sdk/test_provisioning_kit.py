"""The desired-state contract: ``diff`` and the test kit's directory backend.

The expectations here are written out by hand (which change a given pair of states needs),
not taken from the code under test.
"""
from __future__ import annotations

import pytest

from backhaul.sdk.provisioning import ChangeAction, DeviceRef, Secret, Subscriber, diff
from backhaul.sdk.testing.contracts import ProvisioningBackendContract
from backhaul.sdk.testing.provisioning import (
    DirectoryBackend,
    applied_changes,
    edit_by_hand,
)


def test_diff_orders_creates_updates_then_deletes():
    desired = {"sub-2": {"rate": "10/1"}, "sub-1": {"rate": "5/1"}, "sub-3": {"rate": "1/1"}}
    actual = {"sub-3": {"rate": "1/1"}, "sub-1": {"rate": "4/1"}, "sub-9": {"rate": "7/7"}}
    changes = diff(desired, actual)
    assert [(c.action, c.key) for c in changes] == [
        (ChangeAction.UPDATE, "sub-1"), (ChangeAction.CREATE, "sub-2"),
        (ChangeAction.DELETE, "sub-9")]
    assert changes[0].before == {"rate": "4/1"} and changes[0].after == {"rate": "5/1"}


def test_diff_of_equal_states_is_empty_lists_and_tuples_alike():
    assert diff({"a": {"x": [1, 2]}}, {"a": {"x": (1, 2)}}) == []


def test_secrets_never_show_themselves():
    sub = Subscriber(key="sub-1", account_number="1", password="hunter2")
    assert "hunter2" not in repr(sub) and "hunter2" not in str(sub.password)
    assert sub.password.reveal() == "hunter2" and sub.password == Secret("hunter2")


class TestDirectoryBackend(ProvisioningBackendContract):
    @pytest.fixture
    def backend(self):
        return DirectoryBackend()

    @pytest.fixture
    def device(self, tmp_path):
        return DeviceRef(id=3, name="r3", backend="testkit.directory",
                         settings={"path": str(tmp_path)})

    @pytest.fixture
    def subscriber(self):
        return Subscriber(key="sub-5", account_number="1005", username="u5",
                          password="s3cret", download_kbps=100_000, upload_kbps=20_000)

    @pytest.fixture
    def changed_subscriber(self):
        return Subscriber(key="sub-5", account_number="1005", username="u5",
                          password="s3cret", state="throttled",
                          download_kbps=1_000, upload_kbps=1_000)

    def make_unowned_object(self, device):
        edit_by_hand(device, "guest-wifi", owner="operator", rate="1/1")

    def assert_unowned_object_intact(self, device):
        import json

        from backhaul.sdk.testing.provisioning import device_file
        assert json.loads(device_file(device).read_text())["guest-wifi"]["rate"] == "1/1"


def test_drift_by_hand_is_seen_and_the_log_records_applies(tmp_path):
    backend = DirectoryBackend()
    device = DeviceRef(id=1, name="r", backend=backend.key, settings={"path": str(tmp_path)})
    sub = Subscriber(key="sub-1", account_number="1", download_kbps=10, upload_kbps=1)
    want = {sub.key: backend.render(device, sub)}
    backend.apply(device, diff(want, backend.read(device), {sub.key: sub}))
    edit_by_hand(device, "sub-1", rate="999/999")
    drift = diff(want, backend.read(device))
    assert [(c.action, c.before["rate"], c.after["rate"]) for c in drift] == [
        (ChangeAction.UPDATE, "999/999", "10/1")]
    assert [c["action"] for c in applied_changes(device)] == ["create"]
