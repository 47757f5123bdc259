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


@dataclass(frozen=True)
class GatewayCapabilities:
    """What a gateway can do; pages and jobs ask before offering an action.

    ``refunds``/``partial_refunds``: :meth:`PaymentGateway.refund` works (for less than the
    whole payment); ``saved_methods``: :meth:`~PaymentGateway.start_setup` stores a card for
    later; ``off_session``: :meth:`~PaymentGateway.purchase` may charge a saved method with
    nobody present (auto-pay); ``checkout``: :meth:`~PaymentGateway.start_checkout` takes a
    payment with the customer present (the portal).
    """

    refunds: bool = False
    partial_refunds: bool = False
    saved_methods: bool = False
    off_session: bool = False
    checkout: bool = False


@dataclass(frozen=True)
class Customer:
    """Who pays: Backhaul's account, as a gateway may need it to create its own customer."""

    account_id: int
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Checkout:
    """A payment (or a card setup) the customer is taking part in, as a portal page needs it.

    ``status`` is PROCESSED when done, PENDING while the customer (or the bank) still has to
    act, ERROR when refused (``message`` says why, for the customer). While PENDING a page
    either hands ``client_secret`` and ``publishable_key`` to the processor's browser SDK, or
    sends the browser to ``redirect_url`` (3-D Secure); the processor sends it back to the
    ``return_url`` given when the checkout started. ``reference`` names the payment (or the
    setup) at the processor: pass it to :meth:`PaymentGateway.fetch` /
    :meth:`PaymentGateway.finish_setup` to learn the outcome. ``method_ref`` is the payment
    method used, when known. Never contains a secret key.
    """

    status: PaymentStatus
    reference: str
    client_secret: str = ""
    publishable_key: str = ""
    redirect_url: str = ""
    next_action: dict = field(default_factory=dict)
    method_ref: str = ""
    message: str = ""

    @property
    def requires_action(self) -> bool:
        return self.status == PaymentStatus.PENDING and bool(
            self.redirect_url or self.next_action)


@dataclass(frozen=True)
class SavedMethod:
    """A payment method stored at the processor: its reference and a label for people
    ("Visa ending 4242"). Backhaul keeps only these, never card data."""

    method_ref: str
    label: str = ""


class WebhookOutcome(enum.StrEnum):
    """What a processor's event means for a payment (the billing webhook route acts on it)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


@dataclass(frozen=True)
class WebhookEvent:
    """One verified event from :meth:`PaymentGateway.parse_webhook`.

    ``id`` is the processor's event id (each is acted on once). ``outcome`` None means "not
    about money" (acknowledged, ignored). ``key`` identifies the payment to billing: the
    ``idempotency_key`` Backhaul passed in ``metadata`` when it started the payment, else the
    processor's id of the payment. ``amount`` is what the payment took, so that a refund or
    a dispute arriving before the success event still records the payment first (events
    converge in any order). A refund names itself: ``refund_id`` (each refund is recorded
    once) and ``refunded`` (that refund's amount); a dispute gives ``disputed``.
    ``account_id`` and ``invoice_id`` come from the payment's metadata when Backhaul set
    them.
    """

    id: str
    type: str
    outcome: WebhookOutcome | None = None
    key: str = ""
    reference: str | None = None
    amount: Money | None = None
    refund_id: str = ""
    refunded: Money | None = None
    disputed: Money | None = None
    account_id: int | None = None
    invoice_id: int | None = None
    message: str = ""


class PaymentGateway(Extension):
    """Moves money through an external processor.

    Every verb takes the same shape: the amount, the stored payment method reference, and an
    ``idempotency_key`` that is unique per attempt. Calling a verb twice with the same key must
    not move money twice. A verb never raises for a declined card: it returns ERROR with a
    message. It raises only when it does not know what happened (the core records UNDEFINED
    and reconciles later through :meth:`fetch`).

    **Settings (the gateway account)**: operators configure the gateway's account (API keys,
    webhook secret) as a configured instance (``backhaul.sdk.instances``, kind
    ``"payment_gateways"``, ``extension_key`` = :attr:`key`); :meth:`settings` returns the
    enabled one, secrets decrypted. A gateway built with ``settings=`` (tests, the contract
    tests) uses those instead and needs no app.

    **Capabilities**: :attr:`capabilities` says which of the optional verbs work.

    **Pages**: a portal starts a payment with :meth:`start_checkout` (with a saved or a just
    entered method, or none: then the browser SDK confirms with ``client_secret``), follows
    ``redirect_url`` when the bank wants the customer, and learns the outcome with
    :meth:`fetch` on its return page. Billing's webhook route
    (``POST /billing/gateways/<key>/webhook``) calls :meth:`parse_webhook` and records what
    the returned :class:`WebhookEvent` says; the answer on the page is for the customer, the
    webhook (or :meth:`fetch` by billing's reconciler) is what moves the ledger.
    """

    capabilities: ClassVar[GatewayCapabilities] = GatewayCapabilities()

    def __init__(self, settings: dict | None = None):
        self._settings = dict(settings) if settings is not None else None

    def settings(self) -> dict:
        """This gateway's account settings, secrets decrypted (in memory only).

        The explicit ``settings=`` given to the constructor, else the enabled configured
        instance of this gateway (the first by name). Raises ``LookupError`` when none is
        configured: the caller records that nothing was charged.
        """
        explicit = getattr(self, "_settings", None)  # a subclass may skip our __init__
        if explicit is not None:
            return explicit
        from backhaul.core.instances import list_instances

        for instance in list_instances(kind="payment_gateways"):
            if instance.extension_key == self.key and instance.enabled:
                return dict(instance.settings)
        raise LookupError(f"no enabled '{self.key}' gateway account is configured: add one "
                          "on the gateway's settings page")

    # -- verbs every gateway has --------------------------------------------------------
    def purchase(self, amount: Money, method_ref: str, *, idempotency_key: str,
                 description: str = "", metadata: dict | None = None) -> PaymentResult:
        """Authorize and capture in one step, off-session (nobody present). Called by
        auto-pay with a saved ``method_ref``; ``metadata`` carries ``idempotency_key`` and
        ``invoice_id`` back through webhooks."""
        raise NotImplementedError

    def refund(self, amount: Money, reference: str, *, idempotency_key: str) -> PaymentResult:
        """Return money for an earlier ``purchase`` identified by its gateway ``reference``.
        The result's ``reference`` names the refund. Must not write to the database."""
        raise NotImplementedError

    def fetch(self, reference: str) -> PaymentResult:
        """Ask the processor what became of a payment (late answers, UNDEFINED attempts)."""
        raise NotImplementedError

    def find(self, idempotency_key: str) -> PaymentResult | None:
        """The payment made with ``idempotency_key``, if the processor has one (a charge
        whose answer was lost never gave Backhaul a reference); ``None`` when there is none.
        Lets a reconciler settle an UNDEFINED attempt without risking a second charge."""
        return None

    def parse_webhook(self, headers: dict, body: bytes) -> WebhookEvent | None:
        """Verify and decode a webhook from the processor; ``None`` when the signature fails
        (or is stale: reject replays outside a tolerance).

        Must not move money or write to the database: billing's route records the event
        (once per ``WebhookEvent.id``) and acts.
        """
        return None

    # -- optional verbs (see ``capabilities``) ------------------------------------------
    def card_form(self) -> dict | None:
        """Where a page's own script turns typed card details into a payment method *in the
        browser*, so that card data never reaches Backhaul (what Stripe.js does):
        ``{"url": the processor's endpoint to POST the card to, "publishable_key": the key
        to send as ``Authorization: Bearer``, "format": "stripe"}`` (form-encoded
        ``type=card&card[number]=...&card[exp_month]=...&card[exp_year]=...&card[cvc]=...``,
        answering JSON with the method's ``id``, or ``error.message``). The page then passes
        that id as ``method_ref``. ``None`` (the default): the gateway has no such step.
        Reads the gateway's settings; must not call the processor."""
        return None

    def start_setup(self, customer: Customer, *, idempotency_key: str,
                    return_url: str = "", method_ref: str = "") -> Checkout:
        """Begin saving a payment method for ``customer`` (Stripe: a SetupIntent). With
        ``method_ref`` it is confirmed at once (and may need the customer: ``redirect_url``);
        without, the browser completes it (``client_secret``). Then :meth:`finish_setup`."""
        raise NotImplementedError

    def finish_setup(self, reference: str, method_ref: str = "") -> SavedMethod | None:
        """The saved method once setup ``reference`` succeeded (``method_ref``: the method the
        browser attached, when the page confirms server-side); ``None`` when it has not."""
        raise NotImplementedError

    def start_checkout(self, amount: Money, customer: Customer, *, idempotency_key: str,
                       method_ref: str = "", save_method: bool = False,
                       return_url: str = "", description: str = "",
                       metadata: dict | None = None) -> Checkout:
        """Take a payment with the customer present (on-session).

        With ``method_ref`` the payment is confirmed at once and may come back PENDING with
        ``redirect_url``/``next_action`` (3-D Secure); without, it waits for the browser SDK
        (``client_secret``). ``metadata`` must carry what billing needs from the webhook:
        ``idempotency_key`` (set for you), ``account_id`` and ``invoice_id``. Same key, same
        checkout. A decline is an ERROR checkout with a ``message``, never an exception.
        """
        raise NotImplementedError


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
