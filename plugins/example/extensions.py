"""One small but real implementation of each of the four extension points.

Each subclasses a base class from ``backhaul.sdk`` and is proven against that base class's
contract by ``tests/core/test_example_contracts.py`` (subclassing the contract
tests in ``backhaul.sdk.testing.contracts``). Keys are namespaced with the plugin's name.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from pathlib import Path

from marshmallow import Schema, fields, validate

from backhaul.sdk import (
    Checkout,
    Customer,
    DeliveryResult,
    GatewayCapabilities,
    Money,
    NotificationChannel,
    OutboundMessage,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
    SavedMethod,
    ServiceType,
    WebhookEvent,
    WebhookOutcome,
)
from backhaul.sdk.provisioning import (
    ApplyResult,
    Change,
    ChangeAction,
    ConnectionResult,
    DeviceRef,
    ProvisioningBackend,
    Subscriber,
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
    """A stand-in for a router: each subscriber is a JSON file ``<key>.json`` in the device's
    ``path`` folder. Only files named ``sub-*.json`` are Backhaul's (the marker); anything
    else in the folder is someone else's and never read or removed. Nothing touches
    Backhaul's database; ``apply`` is idempotent (a file is written atomically).
    """

    key = "example.file"
    label = "JSON files (example)"
    marker = "sub-"

    def _folder(self, device: DeviceRef) -> Path:
        return Path(device.settings["path"])

    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        ok = self._folder(device).is_dir()
        return ConnectionResult(ok, "folder exists" if ok else "no such folder")

    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict:
        return {"username": subscriber.username, "state": str(subscriber.state),
                "rate": f"{subscriber.download_kbps}k/{subscriber.upload_kbps}k"}

    def read(self, device: DeviceRef, keys=None) -> dict[str, dict]:
        found = {p.stem: json.loads(p.read_text())
                 for p in self._folder(device).glob(f"{self.marker}*.json")}
        return found if keys is None else {k: v for k, v in found.items() if k in keys}

    def apply(self, device: DeviceRef, changes: list[Change]) -> ApplyResult:
        folder = self._folder(device)
        for change in changes:
            path = folder / f"{change.key}.json"
            if change.action == ChangeAction.DELETE:
                path.unlink(missing_ok=True)
                continue
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(change.after, sort_keys=True))
            tmp.replace(path)  # atomic: a reader never sees half a file
        return ApplyResult(applied=tuple(changes))


# --------------------------------------------------------------------------- payments
class FakeGatewaySettings(Schema):
    webhook_secret = fields.Str(required=True, validate=validate.Length(min=8, max=200),
                                metadata={"secret": True})


class FakeGateway(PaymentGateway):
    """A TEST DOUBLE that moves no money: payment methods are the strings below.

    ``"fake_ok"`` is approved, ``"fake_declined"`` declined (ERROR, never an exception),
    ``"fake_pending"`` stays PENDING, ``"fake_3ds"`` needs the customer (a checkout comes
    back PENDING with a redirect). It honours idempotency keys like a real processor. Its
    account settings (a webhook secret) come from the configured-instance store; webhooks
    are JSON signed with HMAC-SHA256 in ``X-Fake-Signature``.
    """

    key = "example.fake"
    label = "Fake gateway (example test double; moves no money)"
    settings_schema = FakeGatewaySettings
    capabilities = GatewayCapabilities(refunds=True, partial_refunds=True, saved_methods=True,
                                       off_session=True, checkout=True)
    APPROVED, DECLINED, PENDING, ACTION = "fake_ok", "fake_declined", "fake_pending", "fake_3ds"

    def __init__(self, settings: dict | None = None):
        super().__init__(settings)
        self.by_key: dict[str, PaymentResult] = {}
        self.payments: dict[str, dict] = {}  # reference -> {"amount", "refunded", "status"}
        self.setups: dict[str, str] = {}  # setup reference -> idempotency key

    def purchase(self, amount: Money, method_ref: str, *, idempotency_key: str,
                 description: str = "", metadata: dict | None = None) -> PaymentResult:
        if idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        if method_ref == self.DECLINED:
            result = PaymentResult(PaymentStatus.ERROR, message="card declined (fake)")
        else:
            status = PaymentStatus.PENDING if method_ref in (self.PENDING, self.ACTION) \
                else PaymentStatus.PROCESSED
            reference = f"fake_pay_{len(self.payments) + 1}"
            self.payments[reference] = {"amount": amount, "refunded": Money.zero(
                amount.currency), "status": status, "metadata": dict(metadata or {})}
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

    def find(self, idempotency_key: str) -> PaymentResult | None:
        found = self.by_key.get(idempotency_key)
        return found if found is not None and found.reference else None

    def start_checkout(self, amount: Money, customer: Customer, *, idempotency_key: str,
                       method_ref: str = "", save_method: bool = False,
                       return_url: str = "", description: str = "",
                       metadata: dict | None = None) -> Checkout:
        meta = {**(metadata or {}), "idempotency_key": idempotency_key}
        result = self.purchase(amount, method_ref or self.ACTION,
                               idempotency_key=idempotency_key, metadata=meta)
        if result.status == PaymentStatus.ERROR:
            return Checkout(result.status, reference=result.reference or "",
                            message=result.message)
        secret = f"{result.reference}_secret"
        if method_ref in ("", self.ACTION):
            return Checkout(PaymentStatus.PENDING, result.reference, client_secret=secret,
                            redirect_url=f"{return_url}?fake_payment={result.reference}"
                            if method_ref else "", method_ref=method_ref)
        return Checkout(result.status, result.reference, method_ref=method_ref)

    def start_setup(self, customer: Customer, *, idempotency_key: str,
                    return_url: str = "", method_ref: str = "") -> Checkout:
        reference = f"fake_setup_{customer.account_id}_{idempotency_key}"
        self.setups[reference] = idempotency_key
        return Checkout(PaymentStatus.PENDING, reference, client_secret=f"{reference}_secret")

    def finish_setup(self, reference: str, method_ref: str = "") -> SavedMethod | None:
        if reference not in self.setups or method_ref == self.DECLINED:
            return None
        return SavedMethod(method_ref or self.APPROVED, label=f"Fake card ({method_ref})")

    # -- webhooks ------------------------------------------------------------------
    def sign(self, body: bytes) -> str:
        secret = self.settings()["webhook_secret"].encode()
        return hmac.new(secret, body, hashlib.sha256).hexdigest()

    def parse_webhook(self, headers: dict, body: bytes) -> WebhookEvent | None:
        try:
            expected = self.sign(body)
        except (LookupError, KeyError):
            return None  # no account configured: nothing can be verified
        given = {k.lower(): v for k, v in headers.items()}.get("x-fake-signature", "")
        if not hmac.compare_digest(expected, given):
            return None
        data = json.loads(body)
        amount = data.get("amount")
        return WebhookEvent(
            id=str(data["id"]), type=str(data["type"]),
            outcome=WebhookOutcome(data["outcome"]) if data.get("outcome") else None,
            key=str(data.get("key", "")), reference=data.get("reference"),
            amount=Money(int(amount), data["currency"]) if amount is not None else None,
            refund_id=str(data.get("refund_id", "")),
            refunded=Money(int(data["refunded"]), data["currency"])
            if data.get("refunded") is not None else None,
            account_id=data.get("account_id"), invoice_id=data.get("invoice_id"))
