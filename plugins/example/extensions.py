"""One small but real implementation of each of the four extension points.

Each subclasses a base class from ``backhaul.sdk`` and is proven against that base class's
contract by ``tests/core/test_example_contracts.py`` (subclassing the contract
tests in ``backhaul.sdk.testing.contracts``). Keys are namespaced with the plugin's name.
"""
from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

from marshmallow import Schema, fields, validate

from backhaul.sdk import (
    DeliveryResult,
    Money,
    NotificationChannel,
    OutboundMessage,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
    ProvisioningBackend,
    ProvisioningResult,
    ServiceType,
)

log = logging.getLogger("backhaul.plugins.example")


# --------------------------------------------------------------------------- service type
class FlatParameters(Schema):
    amount = fields.Int(required=True, strict=True, validate=validate.Range(min=0))
    currency = fields.Str(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    period = fields.Str(load_default="month", validate=validate.OneOf(["month", "year"]))


class FlatServiceType(ServiceType):
    """A flat recurring charge with no network side (a rented router, a support plan)."""

    key = "example.flat"
    label = "Flat-rate service (example)"
    parameters_schema = FlatParameters
    provisioned = False
    charge = "recurring"

    def describe(self, params: dict) -> str:
        loaded = self.validate_parameters(params)
        price = Money(loaded["amount"], loaded["currency"])
        return f"{self.label}: {price.format()} per {loaded['period']}"


# --------------------------------------------------------------------------- notifications
class LogChannelSettings(Schema):
    prefix = fields.Str(load_default="[example]", validate=validate.Length(max=20))


class LogChannel(NotificationChannel):
    """Delivers to the log and an in-memory outbox: for demos and tests, never for customers."""

    key = "example.log"
    label = "Log (example; delivers nowhere)"
    settings_schema = LogChannelSettings

    def __init__(self):
        self.outbox: dict[str, OutboundMessage] = {}

    def send(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        if not message.to:
            return DeliveryResult(ok=False, message="no recipient", retryable=False)
        key = message.idempotency_key or uuid.uuid4().hex
        if key not in self.outbox:  # the same message sent twice is delivered once
            self.outbox[key] = message
            log.info("%s to %s: %s", settings.get("prefix", "[example]"),
                     ", ".join(message.to), message.subject)
        return DeliveryResult(ok=True, provider_id=f"log-{key}")


# --------------------------------------------------------------------------- provisioning
class FileBackend(ProvisioningBackend):
    """Keeps each subscriber's desired state as a JSON file in the device's ``path`` folder.

    A stand-in for a router: ``apply`` is idempotent (same state, no write, ``changed``
    False), ``remove`` too, and nothing touches Backhaul's database.
    """

    key = "example.file"
    label = "JSON files (example)"

    def _file(self, device: dict, subscriber: dict) -> Path:
        return Path(device["path"]) / f"subscriber-{int(subscriber['id'])}.json"

    def apply(self, device: dict, subscriber: dict) -> ProvisioningResult:
        path = self._file(device, subscriber)
        wanted = json.dumps(subscriber, sort_keys=True, indent=2)
        if path.exists() and path.read_text() == wanted:
            return ProvisioningResult(ok=True, changed=False, message="already applied")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(wanted)
        tmp.replace(path)  # atomic: a reader never sees half a file
        return ProvisioningResult(ok=True, changed=True, message=f"wrote {path.name}")

    def remove(self, device: dict, subscriber: dict) -> ProvisioningResult:
        path = self._file(device, subscriber)
        if not path.exists():
            return ProvisioningResult(ok=True, changed=False, message="nothing to remove")
        path.unlink()
        return ProvisioningResult(ok=True, changed=True, message=f"removed {path.name}")

    def read(self, device: dict, subscriber: dict) -> dict:
        path = self._file(device, subscriber)
        return json.loads(path.read_text()) if path.exists() else {}


# --------------------------------------------------------------------------- payments
class FakeGateway(PaymentGateway):
    """A TEST DOUBLE that moves no money: payment methods are the strings below.

    ``"fake_ok"`` is approved, ``"fake_declined"`` declined (ERROR, never an exception),
    ``"fake_pending"`` stays PENDING. It honours idempotency keys like a real processor.
    """

    key = "example.fake"
    label = "Fake gateway (example test double; moves no money)"
    APPROVED, DECLINED, PENDING = "fake_ok", "fake_declined", "fake_pending"

    def __init__(self):
        self.by_key: dict[str, PaymentResult] = {}
        self.payments: dict[str, dict] = {}  # reference -> {"amount", "refunded", "status"}

    def purchase(self, amount: Money, method_ref: str, *, idempotency_key: str,
                 description: str = "", metadata: dict | None = None) -> PaymentResult:
        if idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        if method_ref == self.DECLINED:
            result = PaymentResult(PaymentStatus.ERROR, message="card declined (fake)")
        else:
            status = PaymentStatus.PENDING if method_ref == self.PENDING else \
                PaymentStatus.PROCESSED
            reference = f"fake_pay_{len(self.payments) + 1}"
            self.payments[reference] = {"amount": amount, "refunded": Money.zero(
                amount.currency), "status": status}
            result = PaymentResult(status, reference=reference)
        self.by_key[idempotency_key] = result
        return result

    def refund(self, amount: Money, reference: str, *, idempotency_key: str) -> PaymentResult:
        if idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        payment = self.payments.get(reference)
        if payment is None:
            result = PaymentResult(PaymentStatus.ERROR, message=f"no payment {reference}")
        elif payment["refunded"] + amount > payment["amount"]:
            result = PaymentResult(PaymentStatus.ERROR, reference=reference,
                                   message="refund exceeds the payment")
        else:
            payment["refunded"] = payment["refunded"] + amount
            result = PaymentResult(PaymentStatus.PROCESSED, reference=f"{reference}_refund_"
                                   f"{len(self.by_key) + 1}")
        self.by_key[idempotency_key] = result
        return result

    def fetch(self, reference: str) -> PaymentResult:
        payment = self.payments.get(reference)
        if payment is None:
            return PaymentResult(PaymentStatus.UNDEFINED, reference=reference,
                                 message="unknown reference")
        return PaymentResult(payment["status"], reference=reference)
