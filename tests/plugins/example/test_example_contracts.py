"""The example plugin's extensions honour their contracts: this is how a plugin uses
``backhaul.sdk.testing.contracts`` (subclass, provide the fixtures, run pytest)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from marshmallow import ValidationError

from backhaul.plugins.example.extensions import (
    FakeGateway,
    FileBackend,
    FlatServiceType,
    LogChannel,
)
from backhaul.plugins.example.greetings import compose
from backhaul.sdk import DeviceRef, Money, PaymentStatus, Subscriber
from backhaul.sdk.testing.contracts import (
    NotificationChannelContract,
    PaymentGatewayContract,
    ProvisioningBackendContract,
    ServiceTypeContract,
)


class TestFlatServiceType(ServiceTypeContract):
    valid_parameters = [{"amount": 2500, "currency": "USD"},
                        {"amount": 0, "currency": "EUR", "period": "year"}]
    invalid_parameters = [{}, {"amount": -1, "currency": "USD"}, {"amount": 5, "currency": "usd"},
                          {"amount": "5", "currency": "USD"}, {"amount": 1.5, "currency": "USD"},
                          {"amount": 5, "currency": "USD", "period": "week"}]

    @pytest.fixture
    def service_type(self):
        return FlatServiceType()


class TestFakeGateway(PaymentGatewayContract):
    approved_method = FakeGateway.APPROVED
    declined_method = FakeGateway.DECLINED

    @pytest.fixture
    def gateway(self):
        return FakeGateway(settings={"webhook_secret": "example-secret"})

    def signed_webhook(self, gateway, reference):
        body = json.dumps({"id": f"evt_{reference}", "type": "payment.succeeded",
                           "outcome": "succeeded", "key": reference, "reference": reference,
                           "amount": self.amount, "currency": self.currency}).encode()
        return {"X-Fake-Signature": gateway.sign(body)}, body

    def test_pending_payments_stay_pending(self, gateway):
        result = gateway.purchase(Money(100, "USD"), FakeGateway.PENDING, idempotency_key="p")
        assert result.status == PaymentStatus.PENDING
        assert gateway.fetch(result.reference).status == PaymentStatus.PENDING

    def test_refund_cannot_exceed_the_payment(self, gateway):
        bought = gateway.purchase(Money(100, "USD"), FakeGateway.APPROVED, idempotency_key="a")
        assert gateway.refund(Money(60, "USD"), bought.reference, idempotency_key="r1").status \
            == PaymentStatus.PROCESSED
        over = gateway.refund(Money(60, "USD"), bought.reference, idempotency_key="r2")
        assert over.status == PaymentStatus.ERROR and "exceeds" in over.message


class TestLogChannel(NotificationChannelContract):
    invalid_settings = [{"prefix": "x" * 21}, {"colour": "red"}]

    @pytest.fixture
    def channel(self):
        return LogChannel()

    @pytest.fixture
    def settings(self):
        return {"prefix": "[test]"}

    def delivered(self, channel) -> int:
        return len(channel.outbox)


class TestFileBackend(ProvisioningBackendContract):
    @pytest.fixture
    def backend(self):
        return FileBackend()

    @pytest.fixture
    def device(self, tmp_path):
        (tmp_path / "router").mkdir()
        return DeviceRef(id=1, name="r1", backend="example.file",
                         settings={"path": str(tmp_path / "router")})

    @pytest.fixture
    def subscriber(self):
        return Subscriber(key="sub-7", account_number="A-7", username="ada",
                          password="pw", download_kbps=100_000, upload_kbps=20_000)

    @pytest.fixture
    def changed_subscriber(self):
        return Subscriber(key="sub-7", account_number="A-7", username="ada",
                          password="pw", download_kbps=300_000, upload_kbps=50_000)

    def make_unowned_object(self, device):
        (Path(device.settings["path"]) / "hand-made.json").write_text("{}")

    def assert_unowned_object_intact(self, device):
        assert (Path(device.settings["path"]) / "hand-made.json").read_text() == "{}"


# ----------------------------------------------------------------------------- domain logic
@pytest.mark.parametrize("name, greeting, suffixes, text", [
    ("World", "Hello", (), "Hello, World!"),
    ("  ", "Hi", (), "Hi, stranger!"),
    ("Ada", "Hello", ("Cheers.", "", "  ", None, "Bye."), "Hello, Ada! Cheers. Bye."),
])
def test_compose(name, greeting, suffixes, text):
    assert compose(name, greeting, suffixes) == text


def test_flat_service_type_refuses_floats_for_money():
    with pytest.raises(ValidationError):
        FlatServiceType().validate_parameters({"amount": 25.0, "currency": "USD"})
