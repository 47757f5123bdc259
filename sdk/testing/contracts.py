"""Contract tests for the four extension points: subclass one in your plugin's tests.

Each class is a set of pytest tests that any correct implementation passes. Name your subclass
``Test...`` so pytest collects it, and provide the fixtures and attributes it asks for::

    from backhaul.sdk.testing.contracts import PaymentGatewayContract

    class TestMyGateway(PaymentGatewayContract):
        approved_method = "tok_visa"
        declined_method = "tok_chargeDeclined"

        @pytest.fixture
        def gateway(self):
            return MyGateway(client_for_the_simulator())

The classes need no app and no database: an extension's methods are called from jobs with
plain values, and must work (and be tested) without Flask.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from backhaul.sdk.extensions import (
    Checkout,
    Customer,
    DeliveryResult,
    GatewayCapabilities,
    NotificationChannel,
    OutboundMessage,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
    SavedMethod,
    ServiceType,
    WebhookEvent,
)
from backhaul.sdk.money import Money
from backhaul.sdk.provisioning import (
    ApplyResult,
    ChangeAction,
    ConnectionResult,
    ProvisioningBackend,
    diff,
)

__all__ = ["NotificationChannelContract", "PaymentGatewayContract",
           "ProvisioningBackendContract", "ServiceTypeContract"]


def _key() -> str:
    return f"contract-{uuid.uuid4().hex}"


class _Identity:
    """Every extension has a non-empty key and label; settings validate through the schema."""

    extension_fixture = ""

    def _extension(self, request) -> Any:
        return request.getfixturevalue(self.extension_fixture)

    def test_has_a_key_and_a_label(self, request):
        ext = self._extension(request)
        assert isinstance(ext.key, str) and ext.key.strip(), "set a class attribute key"
        assert ext.key == ext.key.strip().lower(), "keys are lowercase, without spaces"
        assert isinstance(ext.label, str) and ext.label.strip(), "set a class attribute label"


# --------------------------------------------------------------------------- service types
class ServiceTypeContract(_Identity):
    """Provide the fixture ``service_type`` and the lists ``valid_parameters`` (each accepted)
    and ``invalid_parameters`` (each refused with ``marshmallow.ValidationError``)."""

    extension_fixture = "service_type"
    valid_parameters: list[dict] = []
    invalid_parameters: list[dict] = []

    def test_is_a_service_type(self, service_type):
        assert isinstance(service_type, ServiceType)
        assert service_type.charge in ("recurring", "one_time")
        assert isinstance(service_type.provisioned, bool)

    def test_accepts_valid_parameters(self, service_type):
        assert self.valid_parameters, "list at least one valid parameter set"
        for params in self.valid_parameters:
            loaded = service_type.validate_parameters(dict(params))
            assert isinstance(loaded, dict)
            # loading what was loaded gives the same (saving a service twice changes nothing)
            assert service_type.validate_parameters(dict(loaded)) == loaded

    def test_refuses_invalid_parameters(self, service_type):
        assert self.invalid_parameters, "list at least one invalid parameter set"
        for params in self.invalid_parameters:
            with pytest.raises(ValidationError):
                service_type.validate_parameters(dict(params))

    def test_describes_in_one_line(self, service_type):
        for params in self.valid_parameters:
            text = service_type.describe(dict(params))
            assert isinstance(text, str) and text.strip() and "\n" not in text


# --------------------------------------------------------------------------- payments
class PaymentGatewayContract(_Identity):
    """Provide the fixture ``gateway`` and the payment-method references ``approved_method``
    and ``declined_method`` (both valid for the gateway, the second one declined), and
    optionally ``currency`` and ``amount`` (minor units).

    The optional verbs are tested when ``gateway.capabilities`` claims them. To test the
    webhook side, override :meth:`signed_webhook` to return ``(headers, body)`` of a
    correctly signed event about the payment ``reference`` (as the processor would send).
    """

    extension_fixture = "gateway"
    approved_method = ""
    declined_method = ""
    currency = "USD"
    amount = 1234

    def money(self, amount: int | None = None) -> Money:
        return Money(self.amount if amount is None else amount, self.currency)

    def signed_webhook(self, gateway, reference: str) -> tuple[dict, bytes] | None:
        return None

    def test_declares_capabilities(self, gateway):
        assert isinstance(gateway.capabilities, GatewayCapabilities)
        caps = gateway.capabilities
        assert caps.refunds or not caps.partial_refunds, "partial refunds are refunds"

    def test_is_a_payment_gateway(self, gateway):
        assert isinstance(gateway, PaymentGateway)

    def test_approved_purchase(self, gateway):
        result = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        assert isinstance(result, PaymentResult)
        assert result.status in (PaymentStatus.PROCESSED, PaymentStatus.PENDING)
        assert result.reference, "a successful purchase names the processor's reference"

    def test_idempotency_key_is_honoured(self, gateway):
        key = _key()
        first = gateway.purchase(self.money(), self.approved_method, idempotency_key=key)
        again = gateway.purchase(self.money(), self.approved_method, idempotency_key=key)
        assert (again.status, again.reference) == (first.status, first.reference), \
            "the same idempotency key must not move money twice"
        other = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        assert other.reference != first.reference, "a new key is a new payment"

    def test_decline_returns_error_and_never_raises(self, gateway):
        result = gateway.purchase(self.money(), self.declined_method, idempotency_key=_key())
        assert isinstance(result, PaymentResult)
        assert result.status == PaymentStatus.ERROR
        assert result.message, "say why it was declined"

    def test_fetch_reports_the_purchase(self, gateway):
        bought = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        fetched = gateway.fetch(bought.reference)
        assert isinstance(fetched, PaymentResult)
        assert fetched.status == bought.status

    def test_refund_is_idempotent(self, gateway):
        bought = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        key = _key()
        first = gateway.refund(self.money(self.amount // 2), bought.reference,
                               idempotency_key=key)
        again = gateway.refund(self.money(self.amount // 2), bought.reference,
                               idempotency_key=key)
        assert first.status in (PaymentStatus.PROCESSED, PaymentStatus.PENDING)
        assert (again.status, again.reference) == (first.status, first.reference)

    def test_webhook_with_a_bad_signature_is_refused(self, gateway):
        assert gateway.parse_webhook({"X-Signature": "forged"}, b'{"forged": true}') is None

    def test_signed_webhook_parses_and_tampering_is_refused(self, gateway):
        bought = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        signed = self.signed_webhook(gateway, bought.reference)
        if signed is None:
            pytest.skip("override signed_webhook() to test the webhook side")
        headers, body = signed
        event = gateway.parse_webhook(headers, body)
        assert isinstance(event, WebhookEvent) and event.id and event.type
        tampered = body.replace(b"}", b" }", 1)
        assert gateway.parse_webhook(headers, tampered) is None, "a changed body must fail"

    def test_checkout_with_a_method(self, gateway):
        if not gateway.capabilities.checkout:
            pytest.skip("the gateway takes no on-session payments")
        customer, key = Customer(account_id=1, name="Contract", email="c@example.net"), _key()
        started = gateway.start_checkout(self.money(), customer, idempotency_key=key,
                                         method_ref=self.approved_method,
                                         metadata={"account_id": 1})
        assert isinstance(started, Checkout) and started.reference
        assert started.status in (PaymentStatus.PROCESSED, PaymentStatus.PENDING)
        again = gateway.start_checkout(self.money(), customer, idempotency_key=key,
                                       method_ref=self.approved_method,
                                       metadata={"account_id": 1})
        assert again.reference == started.reference, "the same key is the same checkout"
        assert gateway.fetch(started.reference).status == started.status
        declined = gateway.start_checkout(self.money(), customer, idempotency_key=_key(),
                                          method_ref=self.declined_method,
                                          metadata={"account_id": 1})
        assert declined.status == PaymentStatus.ERROR and declined.message

    def test_checkout_for_the_browser(self, gateway):
        if not gateway.capabilities.checkout:
            pytest.skip("the gateway takes no on-session payments")
        started = gateway.start_checkout(self.money(), Customer(account_id=1),
                                         idempotency_key=_key(), metadata={"account_id": 1})
        assert started.status == PaymentStatus.PENDING
        assert started.client_secret or started.redirect_url, \
            "without a method the browser needs a client secret or a redirect"

    def test_saving_a_method(self, gateway):
        if not gateway.capabilities.saved_methods:
            pytest.skip("the gateway saves no payment methods")
        setup = gateway.start_setup(Customer(account_id=1, email="c@example.net"),
                                    idempotency_key=_key())
        assert isinstance(setup, Checkout) and setup.reference
        saved = gateway.finish_setup(setup.reference, self.approved_method)
        assert isinstance(saved, SavedMethod) and saved.method_ref
        charged = gateway.purchase(self.money(), saved.method_ref, idempotency_key=_key())
        assert charged.status in (PaymentStatus.PROCESSED, PaymentStatus.PENDING)

    def test_find_by_idempotency_key(self, gateway):
        if type(gateway).find is PaymentGateway.find:
            pytest.skip("the gateway cannot look payments up by key")
        key = _key()
        bought = gateway.purchase(self.money(), self.approved_method, idempotency_key=key)
        found = gateway.find(key)
        assert found is not None and found.reference == bought.reference
        assert gateway.find(_key()) is None, "an unused key names no payment"

    def test_partial_refund_capability(self, gateway):
        if not gateway.capabilities.partial_refunds:
            pytest.skip("no partial refunds")
        bought = gateway.purchase(self.money(), self.approved_method, idempotency_key=_key())
        first = gateway.refund(self.money(1), bought.reference, idempotency_key=_key())
        second = gateway.refund(self.money(2), bought.reference, idempotency_key=_key())
        assert first.reference != second.reference
        too_much = gateway.refund(self.money(), bought.reference, idempotency_key=_key())
        assert too_much.status == PaymentStatus.ERROR, "a refund beyond the payment fails"


# --------------------------------------------------------------------------- notifications
class NotificationChannelContract(_Identity):
    """Provide the fixtures ``channel`` and ``settings`` (valid settings for it), and
    ``recipient`` (an address it delivers to). Override :meth:`delivered` to count what the
    test peer received (an SMTP server's inbox...) so duplicate sends are checked too."""

    extension_fixture = "channel"
    recipient = "someone@example.org"
    invalid_settings: list[dict] = []

    def delivered(self, channel) -> int | None:
        """How many messages the peer has received so far; ``None``: not observable."""
        return None

    def message(self, key: str | None = None, to: tuple[str, ...] | None = None):
        return OutboundMessage(to=(self.recipient,) if to is None else to,
                               subject="Contract test", body_text="Hello from the contract.",
                               idempotency_key=key or _key())

    def test_is_a_notification_channel(self, channel):
        assert isinstance(channel, NotificationChannel)

    def test_settings_validate(self, channel, settings):
        assert isinstance(channel.validate_settings(dict(settings)), dict)
        for bad in self.invalid_settings:
            with pytest.raises(ValidationError):
                channel.validate_settings(dict(bad))

    def test_sends(self, channel, settings):
        before = self.delivered(channel)
        result = channel.send(self.message(), channel.validate_settings(dict(settings)))
        assert isinstance(result, DeliveryResult)
        assert result.ok, result.message
        if before is not None:
            assert self.delivered(channel) == before + 1

    def test_same_idempotency_key_delivers_once(self, channel, settings):
        loaded = channel.validate_settings(dict(settings))
        message = self.message()
        before = self.delivered(channel)
        assert channel.send(message, loaded).ok
        assert channel.send(message, loaded).ok
        if before is not None:
            assert self.delivered(channel) == before + 1

    def test_refused_message_is_a_result_not_an_exception(self, channel, settings):
        result = channel.send(self.message(to=()), channel.validate_settings(dict(settings)))
        assert isinstance(result, DeliveryResult)
        assert not result.ok and result.message


# --------------------------------------------------------------------------- provisioning
class ProvisioningBackendContract(_Identity):
    """Provide the fixtures ``backend``, ``device`` (a ``DeviceRef`` the backend can reach: a
    simulator or a temporary folder, starting with no Backhaul-owned objects) and
    ``subscriber`` / ``changed_subscriber`` (two desired states of the same ``key``).

    Optionally override :meth:`make_unowned_object` to create something by hand on the
    device (not carrying the marker), proving ``read`` and ``apply`` never touch it.
    """

    extension_fixture = "backend"

    def make_unowned_object(self, device) -> None:
        pytest.skip("make_unowned_object not provided")

    def reconcile(self, backend, device, *subscribers):
        """What the network plugin does: render, read, diff, apply; returns the changes."""
        desired = {s.key: backend.render(device, s) for s in subscribers}
        changes = diff(desired, backend.read(device), {s.key: s for s in subscribers})
        if changes:
            result = backend.apply(device, changes)
            assert isinstance(result, ApplyResult) and result.ok, result.failed
        return changes

    def test_is_a_provisioning_backend(self, backend):
        assert isinstance(backend, ProvisioningBackend)

    def test_connection_to_a_reachable_device(self, backend, device):
        result = backend.test_connection(device)
        assert isinstance(result, ConnectionResult) and result.ok, result.message

    def test_render_is_pure_and_keeps_secrets_out(self, backend, device, subscriber):
        first = backend.render(device, subscriber)
        assert first == backend.render(device, subscriber)
        assert isinstance(first, dict) and first
        if subscriber.password:
            assert subscriber.password.reveal() not in repr(first), "render shows a secret"

    def test_starts_with_nothing_owned(self, backend, device):
        assert backend.read(device) == {}

    def test_create_then_read_back_equals_render(self, backend, device, subscriber):
        changes = self.reconcile(backend, device, subscriber)
        assert [c.action for c in changes] == [ChangeAction.CREATE]
        assert backend.read(device) == {subscriber.key: backend.render(device, subscriber)}

    def test_reconcile_with_nothing_to_change_applies_nothing(self, backend, device, subscriber):
        self.reconcile(backend, device, subscriber)
        assert self.reconcile(backend, device, subscriber) == []

    def test_a_changed_state_is_an_update(self, backend, device, subscriber, changed_subscriber):
        assert changed_subscriber.key == subscriber.key
        self.reconcile(backend, device, subscriber)
        changes = self.reconcile(backend, device, changed_subscriber)
        assert [c.action for c in changes] == [ChangeAction.UPDATE]
        assert backend.read(device, [subscriber.key]) == {
            subscriber.key: backend.render(device, changed_subscriber)}

    def test_removal_deletes_and_is_idempotent(self, backend, device, subscriber):
        self.reconcile(backend, device, subscriber)
        changes = self.reconcile(backend, device)
        assert [c.action for c in changes] == [ChangeAction.DELETE]
        assert backend.read(device) == {}
        again = backend.apply(device, changes)  # deleting what is gone succeeds
        assert again.ok

    def test_applying_a_create_twice_is_harmless(self, backend, device, subscriber):
        changes = diff({subscriber.key: backend.render(device, subscriber)}, {},
                       {subscriber.key: subscriber})
        assert backend.apply(device, changes).ok
        assert backend.apply(device, changes).ok
        assert backend.read(device) == {subscriber.key: backend.render(device, subscriber)}

    def test_hand_made_objects_are_never_read_or_removed(self, backend, device, subscriber):
        self.make_unowned_object(device)
        assert backend.read(device) == {}
        self.reconcile(backend, device, subscriber)
        self.reconcile(backend, device)
        assert backend.read(device) == {}
        self.assert_unowned_object_intact(device)

    def assert_unowned_object_intact(self, device) -> None:
        """Override with :meth:`make_unowned_object`: check the hand-made object is there."""
