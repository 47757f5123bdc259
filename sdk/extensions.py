"""Base classes for the four extension points named by Backhaul's design.

One base class per pluggable kind (pretix's ``BasePaymentProvider`` idea): each has a
``key`` (unique, namespaced by the plugin), a ``label``, an optional marshmallow
``settings_schema`` and methods whose docstrings say when the core calls them and what they
must not do. ``backhaul.sdk.testing.contracts`` holds a contract-test class for each; a plugin
proves it honours the contract by subclassing it in its own tests.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .money import Money


class Extension:
    """Common shape: identity, label, settings schema, secret settings.

    Operators configure *instances* of an extension (``backhaul.sdk.instances``): a name and
    settings validated by ``settings_schema``. The names in ``secret_fields`` (or schema
    fields with ``metadata={"secret": True}``) are encrypted at rest, never shown back in a
    form, never logged and never audited in clear.
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    settings_schema: ClassVar[Any] = None
    #: settings that are secret (passwords, tokens, signing secrets)
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def validate_settings(self, settings: dict) -> dict:
        """Validate and load settings; raises ``marshmallow.ValidationError`` on bad input."""
        if self.settings_schema is None:
            return dict(settings)
        return self.settings_schema().load(settings)


# --------------------------------------------------------------------------- service types
class ServiceType(Extension):
    """A kind of service an account can subscribe to (data, voice, rent...).

    ``parameters_schema`` validates the service's own fields (speeds, allowance...) when staff
    save a service of this type. Pure description: no method here may touch the network.
    """

    parameters_schema: ClassVar[Any] = None
    #: whether subscriptions of this type are provisioned on the network
    provisioned: ClassVar[bool] = False
    #: ``recurring`` or ``one_time``
    charge: ClassVar[str] = "recurring"

    def validate_parameters(self, params: dict) -> dict:
        """Called when a service of this type is saved. Raise ``ValidationError`` on bad input."""
        if self.parameters_schema is None:
            return dict(params)
        return self.parameters_schema().load(params)

    def describe(self, params: dict) -> str:
        """A one-line human description for invoices and the UI (``"100/20 Mbps"``)."""
        return self.label


# --------------------------------------------------------------------------- payment gateways
class PaymentStatus(enum.StrEnum):
    """Kill Bill's result vocabulary: every gateway verb answers with one of these."""

    PROCESSED = "processed"
    PENDING = "pending"
    ERROR = "error"
    UNDEFINED = "undefined"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    reference: str | None = None
    message: str = ""
    raw: dict = field(default_factory=dict)


class PaymentGateway(Extension):
    """Moves money through an external processor.

    Every verb takes the same shape: the amount, the stored payment method reference, and an
    ``idempotency_key`` that is unique per attempt. Calling a verb twice with the same key must
    not move money twice. A verb never raises for a declined card: it returns ERROR with a
    message. It raises only when it does not know what happened (the core records UNDEFINED
    and reconciles later through :meth:`fetch`).
    """

    def purchase(self, amount: Money, method_ref: str, *, idempotency_key: str,
                 description: str = "", metadata: dict | None = None) -> PaymentResult:
        """Authorize and capture in one step. Called by auto-pay and the portal."""
        raise NotImplementedError

    def refund(self, amount: Money, reference: str, *, idempotency_key: str) -> PaymentResult:
        """Return money for an earlier ``purchase`` identified by its gateway ``reference``."""
        raise NotImplementedError

    def fetch(self, reference: str) -> PaymentResult:
        """Ask the processor what became of a payment (late answers, UNDEFINED attempts)."""
        raise NotImplementedError

    def parse_webhook(self, headers: dict, body: bytes) -> dict | None:
        """Verify and decode a webhook from the processor; ``None`` when the signature fails.

        Must not move money or write to the database: the core records the event and acts.
        """
        return None


# --------------------------------------------------------------------------- provisioning
# The desired-state provisioning contract lives in ``backhaul.sdk.provisioning``.


# --------------------------------------------------------------------------- notifications
@dataclass(frozen=True)
class OutboundMessage:
    to: tuple[str, ...]
    subject: str
    body_text: str
    body_html: str | None = None
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    headers: dict = field(default_factory=dict)
    idempotency_key: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    provider_id: str | None = None
    message: str = ""
    retryable: bool = True


class NotificationChannel(Extension):
    """Delivers a rendered message (email, SMS, webhook...).

    ``send`` is called from a job with settings already validated. It returns a result rather
    than raising for a refused message; ``retryable`` says whether trying later can help. It
    must not write to Backhaul's database (the core logs the delivery).

    **Where its settings come from**: staff create a channel on the notifications plugin's
    Channels page (``/notifications/channels``), picking this channel type; the form is
    generated from ``settings_schema``, and what they save is a configured instance
    (``backhaul.sdk.instances``, secrets in ``secret_fields`` encrypted). ``send`` receives
    that instance's validated settings, secrets decrypted. Nothing comes from the TOML file:
    several channels of one type (two SMTP servers) may exist.

    **medium**: what kind of message the channel carries, so templates can be shared between
    channels: templates are written per event and *medium*, and routing picks the medium's
    default channel. ``"email"`` (recipient: the contact's e-mail address; subject, text and
    HTML bodies) and ``"sms"`` (the contact's phone number; text body only) are rendered from
    staff templates. Any other value (or none: the channel's ``key``) is its own medium and
    receives no templated messages; a webhook-style channel gets the event as JSON instead.
    """

    #: ``"email"``, ``"sms"``, or empty (its own medium, named by ``key``)
    medium: ClassVar[str] = ""

    def send(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        raise NotImplementedError
