"""The Stripe payment gateway, with the official ``stripe`` library.

Every verb maps to Stripe's PaymentIntents API; Backhaul's attempt key is Stripe's
``Idempotency-Key`` *and* ``metadata["idempotency_key"]``, so a repeat never charges twice and
a charge whose answer was lost can be found again (:meth:`StripeGateway.find`). Only what
Stripe answers decides a result; a network failure is raised (billing marks the attempt
unknown and reconciles), never turned into a decline.
"""
from __future__ import annotations

import re
import time

import stripe
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import (
    Checkout,
    Customer,
    GatewayCapabilities,
    Money,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
    SavedMethod,
    WebhookEvent,
    WebhookOutcome,
)

from .customers import account_tag

STRIPE_API = "https://api.stripe.com"
#: seconds a webhook's timestamp may be off (older: a replay; newer: a forged clock)
WEBHOOK_TOLERANCE = 300
PENDING_STATES = ("processing", "requires_action", "requires_capture", "requires_confirmation")


class StripeSettings(Schema):
    """A Stripe account. Keys are checked for their shape and for one mode (test or live)."""

    publishable_key = fields.Str(required=True, validate=validate.Regexp(
        r"^pk_(test|live)_[A-Za-z0-9]{8,200}$", error="a publishable key starts with pk_test_ "
                                                      "or pk_live_"))
    secret_key = fields.Str(required=True, metadata={"secret": True}, validate=validate.Regexp(
        r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,200}$", error="a secret key starts with "
                                                           "sk_test_, sk_live_ or rk_"))
    webhook_secret = fields.Str(required=True, metadata={"secret": True},
                                validate=validate.Regexp(
                                    r"^whsec_[A-Za-z0-9]{8,200}$",
                                    error="a webhook signing secret starts with whsec_"))
    api_base = fields.Url(load_default=STRIPE_API, require_tld=False,
                          schemes={"http", "https"},
                          metadata={"description": "Stripe's API address (a proxy or a "
                                                   "test server; normally left as it is)"})

    @validates_schema
    def _one_mode(self, data, **_kw):
        pk, sk = data.get("publishable_key", ""), data.get("secret_key", "")
        if pk and sk and ("_live_" in pk) != ("_live_" in sk):
            raise ValidationError("the publishable and secret keys must both be test keys or "
                                  "both live keys", "secret_key")


def _result_of(intent) -> PaymentResult:
    status = intent.status
    error = intent.last_payment_error
    if status == "succeeded":
        return PaymentResult(PaymentStatus.PROCESSED, intent.id, raw={"status": status})
    if status == "canceled":
        return PaymentResult(PaymentStatus.CANCELED, intent.id, "canceled at Stripe")
    if status == "requires_payment_method" and error is not None:
        return PaymentResult(PaymentStatus.ERROR, intent.id, error.message or "declined",
                             raw={"code": error.code})
    return PaymentResult(PaymentStatus.PENDING, intent.id, status, raw={"status": status})


def _strings(metadata: dict | None) -> dict:
    """Stripe metadata: string keys (<=40) and values (<=500)."""
    return {str(k)[:40]: str(v)[:500] for k, v in (metadata or {}).items() if v is not None}


def _card_error(exc: stripe.StripeError) -> tuple[str, str]:
    error = exc.error
    intent = getattr(error, "payment_intent", None) if error is not None else None
    message = exc.user_message or (error.message if error is not None else "") or "declined"
    return (intent.id if intent is not None else ""), message


class StripeGateway(PaymentGateway):
    key = "stripe"
    label = "Stripe"
    settings_schema = StripeSettings
    capabilities = GatewayCapabilities(refunds=True, partial_refunds=True, saved_methods=True,
                                       off_session=True, checkout=True)

    def __init__(self, settings: dict | None = None, *, timeout: float = 20.0,
                 customers=None):
        super().__init__(settings)
        self.timeout = timeout
        self._customers = customers  # account id -> Stripe customer id (None: the table)

    # -- plumbing ----------------------------------------------------------------------
    def client(self) -> stripe.StripeClient:
        s = self.settings()
        return stripe.StripeClient(
            s["secret_key"], base_addresses={"api": s.get("api_base") or STRIPE_API},
            max_network_retries=0, http_client=stripe.new_default_http_client(
                timeout=self.timeout))

    def _customer_id(self, client, customer: Customer) -> str:
        store = self._customers
        if store is None:
            from .customers import CustomerTable

            store = CustomerTable(self.settings()["publishable_key"])
        found = store.get(customer.account_id)
        if found:
            return found
        created = client.v1.customers.create(
            params={"name": customer.name or None, "email": customer.email or None,
                    "metadata": {"account_id": str(customer.account_id)}},
            options={"idempotency_key": f"customer:{customer.account_id}:"
                                        f"{account_tag(self.settings()['publishable_key'])}"})
        return store.put(customer.account_id, created.id)

    # -- off-session verbs ---------------------------------------------------------------
    def purchase(self, amount: Money, method_ref: str, *, idempotency_key: str,
                 description: str = "", metadata: dict | None = None) -> PaymentResult:
        client = self.client()
        try:
            method = client.v1.payment_methods.retrieve(method_ref)
        except stripe.InvalidRequestError as exc:
            return PaymentResult(PaymentStatus.ERROR, None, exc.user_message or str(exc))
        params = {"amount": amount.amount, "currency": amount.currency.lower(),
                  "payment_method": method_ref, "confirm": True, "off_session": True,
                  "payment_method_types": ["card"], "description": description or None,
                  "metadata": _strings({**(metadata or {}),
                                        "idempotency_key": idempotency_key})}
        if method.customer:
            params["customer"] = method.customer
        intent, refused = self._create_intent(client, params, idempotency_key)
        return refused or _result_of(intent)

    @staticmethod
    def _create_intent(client, params: dict, key: str):
        """``(intent, None)``, or ``(None, ERROR result)`` when Stripe refused (a decline, a
        bad request: nothing was charged). A network failure is raised: nobody knows."""
        try:
            return client.v1.payment_intents.create(
                params={k: v for k, v in params.items() if v is not None},
                options={"idempotency_key": key}), None
        except stripe.CardError as exc:
            reference, message = _card_error(exc)
            return None, PaymentResult(PaymentStatus.ERROR, reference or None, message,
                                       raw={"code": exc.code})
        except stripe.InvalidRequestError as exc:
            return None, PaymentResult(PaymentStatus.ERROR, None, exc.user_message or str(exc),
                                       raw={"param": getattr(exc, "param", None)})

    def refund(self, amount: Money, reference: str, *, idempotency_key: str) -> PaymentResult:
        try:
            refund = self.client().v1.refunds.create(
                params={"payment_intent": reference, "amount": amount.amount},
                options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            return PaymentResult(PaymentStatus.ERROR, reference, exc.user_message or str(exc))
        status = {"succeeded": PaymentStatus.PROCESSED, "failed": PaymentStatus.ERROR,
                  "canceled": PaymentStatus.CANCELED}.get(refund.status, PaymentStatus.PENDING)
        return PaymentResult(status, refund.id, getattr(refund, "failure_reason", None) or "")

    def fetch(self, reference: str) -> PaymentResult:
        try:
            return _result_of(self.client().v1.payment_intents.retrieve(reference))
        except stripe.InvalidRequestError as exc:
            return PaymentResult(PaymentStatus.UNDEFINED, reference, str(exc.user_message))

    def find(self, idempotency_key: str) -> PaymentResult | None:
        if not re.fullmatch(r"[\w:.\-]{1,200}", idempotency_key):
            raise ValueError("an idempotency key Stripe can search for: letters, digits, _:.-")
        found = self.client().v1.payment_intents.search(params={
            "query": f"metadata['idempotency_key']:'{idempotency_key}'", "limit": 10})
        intents = list(found.data)
        if not intents:
            return None
        done = [i for i in intents if i.status == "succeeded"]
        return _result_of(done[0] if done else intents[0])

    # -- on-session: checkout and saving a card --------------------------------------------
    def card_form(self) -> dict | None:
        """Stripe's payment-method endpoint and the publishable key, for a page that
        creates the card's payment method in the browser (card data never reaches us)."""
        s = self.settings()
        return {"url": f"{(s.get('api_base') or STRIPE_API).rstrip('/')}/v1/payment_methods",
                "publishable_key": s["publishable_key"], "format": "stripe"}

    def start_checkout(self, amount: Money, customer: Customer, *, idempotency_key: str,
                       method_ref: str = "", save_method: bool = False,
                       return_url: str = "", description: str = "",
                       metadata: dict | None = None) -> Checkout:
        client = self.client()
        params = {"amount": amount.amount, "currency": amount.currency.lower(),
                  "customer": self._customer_id(client, customer),
                  "payment_method_types": ["card"], "description": description or None,
                  "metadata": _strings({"account_id": customer.account_id, **(metadata or {}),
                                        "idempotency_key": idempotency_key}),
                  "setup_future_usage": "off_session" if save_method else None}
        if method_ref:
            params.update(payment_method=method_ref, confirm=True,
                          return_url=return_url or None)
        intent, refused = self._create_intent(client, params, idempotency_key)
        if refused is not None:
            return Checkout(PaymentStatus.ERROR, refused.reference or "",
                            message=refused.message, method_ref=method_ref)
        return self._checkout(intent)

    def _checkout(self, intent) -> Checkout:
        result = _result_of(intent)
        action = intent.next_action.to_dict() if intent.next_action else {}
        redirect = (action.get("redirect_to_url") or {}).get("url") or ""
        method = intent.payment_method
        return Checkout(result.status, intent.id, client_secret=intent.client_secret or "",
                        publishable_key=self.settings()["publishable_key"],
                        redirect_url=redirect, next_action=action,
                        method_ref=method if isinstance(method, str) else "",
                        message="" if result.status != PaymentStatus.ERROR else result.message)

    def start_setup(self, customer: Customer, *, idempotency_key: str,
                    return_url: str = "", method_ref: str = "") -> Checkout:
        client = self.client()
        params = {"customer": self._customer_id(client, customer), "usage": "off_session",
                  "payment_method_types": ["card"],
                  "metadata": {"account_id": str(customer.account_id)}}
        if method_ref:
            params.update(payment_method=method_ref, confirm=True)
            if return_url:
                params["return_url"] = return_url
        try:
            seti = client.v1.setup_intents.create(params=params,
                                                  options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            return Checkout(PaymentStatus.ERROR, getattr(exc.error.setup_intent, "id", "") if
                            exc.error else "", message=_card_error(exc)[1])
        status = {"succeeded": PaymentStatus.PROCESSED, "canceled": PaymentStatus.CANCELED}.get(
            seti.status, PaymentStatus.PENDING)
        action = seti.next_action.to_dict() if seti.next_action else {}
        return Checkout(status, seti.id, client_secret=seti.client_secret or "",
                        publishable_key=self.settings()["publishable_key"],
                        redirect_url=(action.get("redirect_to_url") or {}).get("url") or "",
                        next_action=action, method_ref=seti.payment_method or "")

    def finish_setup(self, reference: str, method_ref: str = "") -> SavedMethod | None:
        client = self.client()
        seti = client.v1.setup_intents.retrieve(reference)
        if method_ref and seti.status in ("requires_payment_method", "requires_confirmation"):
            try:
                seti = client.v1.setup_intents.confirm(
                    reference, params={"payment_method": method_ref})
            except stripe.CardError:
                return None
        if seti.status != "succeeded" or not seti.payment_method:
            return None
        method = client.v1.payment_methods.retrieve(seti.payment_method)
        card = method.card
        label = f"{card.brand.title()} ending {card.last4}" if card else method.type
        return SavedMethod(method.id, label)

    # -- webhooks ----------------------------------------------------------------------------
    def parse_webhook(self, headers: dict, body: bytes) -> WebhookEvent | None:
        try:
            secret = self.settings()["webhook_secret"]
        except LookupError:
            return None
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature", "")
        stamp = re.search(r"(?:^|,)t=(\d{1,12})(?:,|$)", header)
        if stamp is None or abs(time.time() - int(stamp.group(1))) > WEBHOOK_TOLERANCE:
            return None  # stale (a replay) or from the future
        try:
            event = stripe.Webhook.construct_event(body, header, secret,
                                                   tolerance=WEBHOOK_TOLERANCE)
        except (ValueError, stripe.SignatureVerificationError):
            return None
        return self._meaning(event.id, event.type, event.data.object.to_dict())

    def _meaning(self, event_id: str, type_: str, obj: dict) -> WebhookEvent:
        outcomes = {"payment_intent.succeeded": WebhookOutcome.SUCCEEDED,
                    "payment_intent.processing": WebhookOutcome.PROCESSING,
                    "payment_intent.payment_failed": WebhookOutcome.FAILED,
                    "payment_intent.canceled": WebhookOutcome.FAILED,
                    "refund.created": WebhookOutcome.REFUNDED,
                    "refund.updated": WebhookOutcome.REFUNDED,
                    "charge.dispute.created": WebhookOutcome.DISPUTED}
        outcome = outcomes.get(type_)
        if outcome is None or (obj.get("object") == "refund" and obj.get("status") != (
                "succeeded")):
            return WebhookEvent(event_id, type_)  # acknowledged; nothing for the ledger
        if obj.get("object") in ("refund", "dispute"):  # the payment's facts are on its intent
            intent = self.client().v1.payment_intents.retrieve(obj["payment_intent"]).to_dict()
            refund = obj["object"] == "refund"
            return self._about(event_id, type_, outcome, intent,
                               amount=intent["amount_received"] or intent["amount"],
                               refund_id=obj["id"] if refund else "",
                               refunded=obj["amount"] if refund else None,
                               disputed=None if refund else obj["amount"])
        error = obj.get("last_payment_error") or {}
        return self._about(event_id, type_, outcome, obj, amount=obj.get("amount_received")
                           or obj["amount"], message=error.get("message") or "")

    @staticmethod
    def _about(event_id, type_, outcome, obj, *, amount, refund_id="", refunded=None,
               disputed=None, message="") -> WebhookEvent:
        meta = obj.get("metadata") or {}
        reference = obj["id"]
        currency = obj["currency"].upper()

        def as_int(name):
            value = str(meta.get(name) or "")
            return int(value) if value.isdigit() else None

        return WebhookEvent(
            id=event_id, type=type_, outcome=outcome,
            key=meta.get("idempotency_key") or reference, reference=reference,
            amount=Money(int(amount), currency), refund_id=refund_id,
            refunded=Money(int(refunded), currency) if refunded is not None else None,
            disputed=Money(int(disputed), currency) if disputed is not None else None,
            account_id=as_int("account_id"), invoice_id=as_int("invoice_id"),
            message=message[:500])


__all__ = ["StripeGateway", "StripeSettings"]
