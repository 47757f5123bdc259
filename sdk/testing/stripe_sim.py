"""A Stripe API simulator: a local HTTP server speaking the part of Stripe's REST API a card
gateway uses, for tests of Backhaul's Stripe plugin and of third-party gateways.

No stripe-mock can be installed here, and Stripe's test mode needs the internet; this speaks
the real wire protocol instead, so the official ``stripe`` client is pointed at it unchanged::

    with StripeSimulator() as sim:
        client = stripe.StripeClient(sim.secret_key, base_addresses={"api": sim.url})
        client.v1.payment_intents.create(params={"amount": 500, "currency": "usd",
            "payment_method": "pm_card_visa", "confirm": True})

What it implements (form-encoded requests with Stripe's bracket nesting, ``Bearer`` keys):

* customers; payment methods (create from a test card number with the *publishable* key, as
  Stripe.js does; retrieve; attach); a browser holding an intent's ``client_secret`` may
  confirm it with the publishable key too (CORS allowed), so a page can stand in for
  Stripe.js; setup intents (create, confirm, retrieve); payment
  intents (create, confirm, capture, retrieve, search by ``metadata['k']:'v'``); refunds
  (full, partial, over-refund refused); events (retrieve, list);
* **idempotency**: a ``POST`` with an ``Idempotency-Key`` is answered once; a repeat with the
  same body replays the stored response (``Idempotent-Replayed: true``), a repeat with another
  body is a 400 ``idempotency_error``;
* **Stripe-shaped errors**: ``card_error``/``card_declined`` (402, with the intent),
  ``authentication_required`` off-session, ``invalid_request_error`` with ``param``,
  ``resource_missing`` (404), a bad key (401);
* **test cards** by magic payment-method id or number (Stripe's published test values):
  ``pm_card_visa``/4242424242424242 and ``pm_card_mastercard``/5555555555554444 succeed;
  ``pm_card_chargeDeclined``/4000000000000002 and
  ``pm_card_chargeDeclinedInsufficientFunds``/4000000000009995 decline;
  ``pm_card_authenticationRequired``/4000002760003184 always needs 3-D Secure;
  ``pm_card_authenticationRequiredOnSetup``/4000002500003155 needs it on-session unless set
  up (then off-session charges succeed); ``pm_usBankAccount_success`` stays ``processing``
  until :meth:`StripeSimulator.settle`;
* **3-D Secure** as a page: ``next_action.redirect_to_url.url`` is ``/_sim/3ds/<id>`` on the
  simulator, with "Complete" and "Fail" buttons that go back to the ``return_url``
  (a browser test clicks them); :meth:`~StripeSimulator.authenticate` does it from Python;
* **events** for every change, signed the way Stripe signs them
  (``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``), delivered to
  ``webhook_url`` from a thread when one is set, and always kept in :attr:`events`;
  :meth:`signed` signs any event (with any timestamp) for a test to post itself;
* **faults**: :meth:`drop_next` makes the next matching request be *processed* and then the
  connection closed without an answer (did the charge happen? yes); :meth:`dispute` opens a
  dispute as a bank would.

Its responses conform to Stripe's published OpenAPI description (``tests`` validate them).
Nothing here is Backhaul-specific.
"""
from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import queue
import re
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["TEST_CARDS", "StripeSimulator", "sign_payload"]

#: card behaviours: number -> (brand, behaviour)
TEST_CARDS = {
    "4242424242424242": ("visa", "ok"),
    "5555555555554444": ("mastercard", "ok"),
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000002760003184": ("visa", "auth_always"),
    "4000002500003155": ("visa", "auth_unless_setup"),
}
MAGIC_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_usBankAccount_success": "bank:processing",
}
DECLINE_MESSAGES = {"generic_decline": "Your card was declined.",
                    "insufficient_funds": "Your card has insufficient funds."}
API_VERSION = "2024-04-10"


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class StripeError(Exception):
    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


def _error(status: int, type_: str, message: str, **extra) -> StripeError:
    err = {"type": type_, "message": message}
    err.update({k: v for k, v in extra.items() if v is not None})
    return StripeError(status, {"error": err})


def _missing(kind: str, ident: str, param: str = "id") -> StripeError:
    return _error(404, "invalid_request_error", f"No such {kind}: '{ident}'",
                  code="resource_missing", param=param)


def decode_form(body: str) -> dict:
    """Stripe's form encoding: ``a[b]=1&c[0]=x`` -> ``{"a": {"b": "1"}, "c": ["x"]}``."""
    out: dict = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", name)
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(out)


def _listify(node):
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def _int(params: dict, name: str, required: bool = False, minimum: int = 0) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise _error(400, "invalid_request_error", f"Missing required param: {name}.",
                         param=name, code="parameter_missing")
        return None
    if not str(raw).isdigit() or int(raw) < minimum:
        raise _error(400, "invalid_request_error", f"Invalid integer: {raw}", param=name,
                     code="parameter_invalid_integer")
    return int(raw)


def _bool(params: dict, name: str) -> bool:
    return str(params.get(name, "false")).lower() == "true"


class StripeSimulator:
    """The server and its state; a context manager (``with StripeSimulator() as sim``)."""

    def __init__(self, secret_key: str = "sk_test_simulator",
                 publishable_key: str = "pk_test_simulator",
                 webhook_secret: str = "whsec_simulator", webhook_url: str | None = None):
        self.secret_key, self.publishable_key = secret_key, publishable_key
        self.webhook_secret, self.webhook_url = webhook_secret, webhook_url
        self.objects: dict[str, dict] = {}
        self.events: list[dict] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self._idem: dict[tuple[str, str], tuple[str, int, dict]] = {}
        self._drops: list[str] = []
        self._setup_done: set[str] = set()  # cards set up for off-session use
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._deliveries: queue.Queue = queue.Queue()
        self.delivered: list[tuple[str, int]] = []  # (event id, HTTP status)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> StripeSimulator:
        sim = self

        class Handler(_Handler):
            simulator = sim

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        threading.Thread(target=self._deliver_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._deliveries.put(None)
            self._server = None

    def __enter__(self) -> StripeSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- test controls ---------------------------------------------------------------
    def drop_next(self, path_prefix: str = "/v1/payment_intents") -> None:
        """Process the next ``POST`` under ``path_prefix``, then close the connection without
        answering (a timeout after the charge was accepted)."""
        with self._lock:
            self._drops.append(path_prefix)

    def authenticate(self, intent_id: str, succeed: bool = True) -> dict:
        """The customer completes (or fails) 3-D Secure for a payment or setup intent."""
        with self._lock:
            obj = self._get(intent_id)
            if obj["status"] != "requires_action":
                raise ValueError(f"{intent_id} is {obj['status']}, not requires_action")
            if obj["object"] == "setup_intent":
                return self._finish_setup(obj, succeed)
            return self._settle_intent(obj, self._get(obj["payment_method"]), succeed,
                                       after_auth=True)

    def settle(self, intent_id: str, succeed: bool = True) -> dict:
        """A ``processing`` payment intent succeeds (or fails), as a bank debit does later."""
        with self._lock:
            obj = self._get(intent_id)
            obj["processing"] = None
            return self._settle_intent(obj, self._get(obj["payment_method"]), succeed,
                                       after_auth=True)

    def dispute(self, intent_id: str, reason: str = "fraudulent") -> dict:
        """The card holder's bank opens a dispute for the whole charge."""
        with self._lock:
            intent = self._get(intent_id)
            charge = self._get(intent["latest_charge"])
            dispute = {"id": self._id("dp"), "object": "dispute", "amount": charge["amount"],
                       "balance_transactions": [], "charge": charge["id"],
                       "created": int(time.time()), "currency": charge["currency"],
                       "evidence": _EVIDENCE, "evidence_details": {
                           "due_by": int(time.time()) + 7 * 86400, "has_evidence": False,
                           "past_due": False, "submission_count": 0},
                       "is_charge_refundable": False, "livemode": False,
                       "metadata": {}, "payment_intent": intent_id,
                       "reason": reason, "status": "needs_response"}
            self.objects[dispute["id"]] = dispute
            charge["disputed"] = True
            self._event("charge.dispute.created", dispute)
            return dispute

    def signed(self, event: dict, timestamp: int | None = None,
               secret: str | None = None) -> tuple[dict, bytes]:
        """``(headers, body)`` of ``event`` as Stripe would post it."""
        body = json.dumps(event).encode()
        return ({"Stripe-Signature": sign_payload(body, secret or self.webhook_secret,
                                                  timestamp),
                 "Content-Type": "application/json"}, body)

    def charges(self, status: str = "succeeded") -> list[dict]:
        """The charges in ``status`` (to count money that really moved)."""
        return [o for o in self.objects.values()
                if o["object"] == "charge" and o["status"] == status]

    # -- webhooks ------------------------------------------------------------------
    def _deliver_loop(self) -> None:
        while True:
            event = self._deliveries.get()
            if event is None:
                return
            headers, body = self.signed(event)
            request = urllib.request.Request(self.webhook_url, data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status = answer.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.delivered.append((event["id"], status))

    def _event(self, type_: str, obj: dict) -> dict:
        event = {"id": self._id("evt"), "object": "event", "api_version": API_VERSION,
                 "created": int(time.time()),
                 "data": {"object": _public(json.loads(json.dumps(obj)))},
                 "livemode": False, "pending_webhooks": 1 if self.webhook_url else 0,
                 "request": {"id": None, "idempotency_key": None}, "type": type_}
        self.events.append(event)
        self.objects[event["id"]] = event
        if self.webhook_url:
            self._deliveries.put(event)
        return event

    # -- state helpers -----------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{secrets.token_hex(6)}"

    def _get(self, ident: str, kind: str | None = None) -> dict:
        obj = self.objects.get(ident)
        if obj is None or (kind and obj["object"] != kind):
            raise _missing(kind or "object", ident)
        return obj

    def _card_method(self, number: str, customer: str | None = None,
                     exp_month: int = 12, exp_year: int = 2034) -> dict:
        if number == "bank:processing":
            brand, kind = "bank", "us_bank_account"
        elif number in TEST_CARDS:
            brand, kind = TEST_CARDS[number][0], "card"
        else:
            raise _error(402, "card_error", "Your card number is incorrect.",
                         code="incorrect_number", param="card[number]")
        pm = {"id": self._id("pm"), "object": "payment_method", "type": kind,
              "billing_details": {"address": None, "email": None, "name": None, "phone": None},
              "created": int(time.time()), "customer": customer, "livemode": False,
              "metadata": {}, "allow_redisplay": "unspecified"}
        if kind == "card":
            pm["card"] = {"brand": brand, "exp_month": exp_month, "exp_year": exp_year,
                          "funding": "credit", "last4": number[-4:], "country": "US",
                          "checks": None, "display_brand": brand, "fingerprint": number[-8:],
                          "generated_from": None, "networks": None,
                          "three_d_secure_usage": {"supported": True}, "wallet": None}
        pm["_number"] = number
        self.objects[pm["id"]] = pm
        return pm

    def _method(self, ref: str, param: str = "payment_method") -> dict:
        if ref in MAGIC_METHODS:
            return self._card_method(MAGIC_METHODS[ref])
        obj = self.objects.get(ref)
        if obj is None or obj["object"] != "payment_method":
            raise _missing("PaymentMethod", ref, param)
        return obj

    @staticmethod
    def _behaviour(pm: dict) -> str:
        number = pm["_number"]
        return "processing" if number == "bank:processing" else TEST_CARDS[number][1]

    # -- API -------------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict, key: str) -> dict:
        """One API call (the HTTP handler's work): the JSON answer, or raises StripeError."""
        if key != self.secret_key and not (key == self.publishable_key
                                           and self._browser_may(method, path, params)):
            raise _error(401, "invalid_request_error", f"Invalid API Key provided: "
                                                       f"{key[:8]}{'*' * 8}")
        route = _ROUTES.get((method, re.sub(r"/(cus|pm|seti|pi|re|evt|ch|dp)_\w+", r"/{id}",
                                            path)))
        if route is None:
            raise _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: "
                                                       f"{path}).")
        ident = next(iter(re.findall(r"/((?:cus|pm|seti|pi|re|evt|ch|dp)_\w+)", path)), None)
        with self._lock:
            return getattr(self, route)(params, ident) if ident else getattr(self, route)(
                params)

    def _browser_may(self, method: str, path: str, params: dict) -> bool:
        """What Stripe.js does with the publishable key: create a payment method, and confirm
        an intent it holds the ``client_secret`` of."""
        if method != "POST":
            return False
        if path == "/v1/payment_methods":
            return True
        found = re.fullmatch(r"/v1/(?:payment|setup)_intents/((?:pi|seti)_\w+)/confirm", path)
        with self._lock:
            obj = self.objects.get(found.group(1)) if found else None
        return obj is not None and params.get("client_secret") == obj.get("client_secret")

    def create_customer(self, p: dict) -> dict:
        cus = {"id": self._id("cus"), "object": "customer", "address": None, "balance": 0,
               "created": int(time.time()), "currency": None, "default_source": None,
               "delinquent": False, "description": p.get("description"),
               "discount": None, "email": p.get("email"), "invoice_prefix": None,
               "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                    "footer": None, "rendering_options": None},
               "livemode": False, "metadata": p.get("metadata") or {}, "name": p.get("name"),
               "phone": None, "preferred_locales": [], "shipping": None,
               "tax_exempt": "none", "test_clock": None}
        self.objects[cus["id"]] = cus
        self._event("customer.created", cus)
        return cus

    def get_customer(self, p: dict, ident: str) -> dict:
        return self._get(ident, "customer")

    def create_payment_method(self, p: dict) -> dict:
        if p.get("type") != "card":
            raise _error(400, "invalid_request_error", "Only type=card is simulated.",
                         param="type")
        card = p.get("card") or {}
        number = re.sub(r"\D", "", str(card.get("number", "")))
        return self._card_method(number, exp_month=_int(card, "exp_month") or 12,
                                 exp_year=_int(card, "exp_year") or 2034)

    def get_payment_method(self, p: dict, ident: str) -> dict:
        return self._method(ident, "payment_method")

    def attach_payment_method(self, p: dict, ident: str) -> dict:
        pm = self._method(ident, "payment_method")
        pm["customer"] = self._get(p.get("customer", ""), "customer")["id"]
        self._event("payment_method.attached", pm)
        return pm

    # setup intents
    def create_setup_intent(self, p: dict) -> dict:
        customer = p.get("customer")
        if customer:
            self._get(customer, "customer")
        seti = {"id": self._id("seti"), "object": "setup_intent", "application": None,
                "automatic_payment_methods": None, "cancellation_reason": None,
                "created": int(time.time()), "customer": customer,
                "description": p.get("description"), "flow_directions": None,
                "last_setup_error": None, "latest_attempt": None, "livemode": False,
                "mandate": None, "metadata": p.get("metadata") or {}, "next_action": None,
                "on_behalf_of": None, "payment_method": None,
                "payment_method_configuration_details": None,
                "payment_method_options": {}, "payment_method_types": ["card"],
                "single_use_mandate": None, "status": "requires_payment_method",
                "usage": p.get("usage", "off_session")}
        seti["client_secret"] = f"{seti['id']}_secret_{secrets.token_hex(8)}"
        self.objects[seti["id"]] = seti
        self._event("setup_intent.created", seti)
        if p.get("payment_method") and _bool(p, "confirm"):
            return self.confirm_setup_intent(p, seti["id"])
        return seti

    def get_setup_intent(self, p: dict, ident: str) -> dict:
        return self._get(ident, "setup_intent")

    def confirm_setup_intent(self, p: dict, ident: str) -> dict:
        seti = self._get(ident, "setup_intent")
        if seti["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise _error(400, "invalid_request_error", f"This SetupIntent's status is "
                         f"{seti['status']}.", code="setup_intent_unexpected_state")
        pm = self._method(p.get("payment_method") or seti["payment_method"] or "")
        seti["payment_method"] = pm["id"]
        seti["_return_url"] = p.get("return_url", "")
        behaviour = self._behaviour(pm)
        if behaviour in DECLINE_MESSAGES:
            seti["status"] = "requires_payment_method"
            seti["last_setup_error"] = self._card_error_body(behaviour)
            self._event("setup_intent.setup_failed", seti)
            raise _error(402, "card_error", DECLINE_MESSAGES[behaviour], code="card_declined",
                         decline_code=behaviour, setup_intent=seti)
        if behaviour.startswith("auth_"):
            seti["status"] = "requires_action"
            seti["next_action"] = self._next_action(seti)
            self._event("setup_intent.requires_action", seti)
            return seti
        return self._finish_setup(seti, True)

    def _finish_setup(self, seti: dict, succeed: bool) -> dict:
        seti["next_action"] = None
        if not succeed:
            seti["status"] = "requires_payment_method"
            seti["last_setup_error"] = {
                "type": "card_error", "code": "setup_intent_authentication_failure",
                "message": "We are unable to authenticate your payment method."}
            self._event("setup_intent.setup_failed", seti)
            return seti
        seti["status"] = "succeeded"
        pm = self._get(seti["payment_method"])
        if seti["customer"]:
            pm["customer"] = seti["customer"]
        self._setup_done.add(pm["id"])
        self._event("setup_intent.succeeded", seti)
        return seti

    def _next_action(self, intent: dict) -> dict:
        return {"type": "redirect_to_url", "redirect_to_url": {
            "url": f"{self.url}/_sim/3ds/{intent['id']}",
            "return_url": intent.get("_return_url") or None}}

    # payment intents
    def create_payment_intent(self, p: dict) -> dict:
        amount = _int(p, "amount", required=True, minimum=1)
        currency = str(p.get("currency", "")).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise _error(400, "invalid_request_error", "Missing required param: currency.",
                         param="currency", code="parameter_missing")
        customer = p.get("customer")
        if customer:
            self._get(customer, "customer")
        pi = {"id": self._id("pi"), "object": "payment_intent", "amount": amount,
              "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
              "application": None, "application_fee_amount": None,
              "automatic_payment_methods": None, "canceled_at": None,
              "cancellation_reason": None,
              "capture_method": p.get("capture_method", "automatic"),
              "confirmation_method": "automatic", "created": int(time.time()),
              "currency": currency, "customer": customer, "description": p.get("description"),
              "invoice": None, "last_payment_error": None, "latest_charge": None,
              "livemode": False, "metadata": p.get("metadata") or {}, "next_action": None,
              "on_behalf_of": None, "payment_method": None,
              "payment_method_configuration_details": None, "payment_method_options": {},
              "payment_method_types": ["card"], "processing": None,
              "receipt_email": p.get("receipt_email"), "review": None,
              "setup_future_usage": p.get("setup_future_usage"), "shipping": None,
              "statement_descriptor": None, "statement_descriptor_suffix": None,
              "status": "requires_payment_method", "transfer_data": None,
              "transfer_group": None}
        pi["client_secret"] = f"{pi['id']}_secret_{secrets.token_hex(8)}"
        self.objects[pi["id"]] = pi
        if p.get("payment_method"):
            pi["payment_method"] = self._method(p["payment_method"])["id"]
            pi["status"] = "requires_confirmation"
        self._event("payment_intent.created", pi)
        if _bool(p, "confirm"):
            return self.confirm_payment_intent(p, pi["id"])
        return pi

    def get_payment_intent(self, p: dict, ident: str) -> dict:
        return self._get(ident, "payment_intent")

    def confirm_payment_intent(self, p: dict, ident: str) -> dict:
        pi = self._get(ident, "payment_intent")
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise _error(400, "invalid_request_error", f"This PaymentIntent's status is "
                         f"{pi['status']}; it cannot be confirmed.",
                         code="payment_intent_unexpected_state", payment_intent=pi)
        ref = p.get("payment_method") or pi["payment_method"]
        if not ref:
            raise _error(400, "invalid_request_error", "You cannot confirm this PaymentIntent "
                         "because it's missing a payment method.", param="payment_method",
                         code="payment_intent_unexpected_state")
        pm = self._get(ref) if ref == pi["payment_method"] else self._method(ref)
        pi["payment_method"] = pm["id"]
        pi["_return_url"] = p.get("return_url", "")
        off_session = _bool(p, "off_session")
        behaviour = self._behaviour(pm)
        if behaviour in DECLINE_MESSAGES:
            return self._decline(pi, pm, behaviour)
        needs_auth = behaviour == "auth_always" or (
            behaviour == "auth_unless_setup" and pm["id"] not in self._setup_done)
        if needs_auth and off_session:
            return self._decline(pi, pm, "authentication_required")
        if needs_auth:
            pi["status"] = "requires_action"
            pi["next_action"] = self._next_action(pi)
            self._event("payment_intent.requires_action", pi)
            return pi
        if behaviour == "processing":
            pi["status"] = "processing"
            pi["processing"] = {"type": "card", "card": None}
            self._event("payment_intent.processing", pi)
            return pi
        return self._settle_intent(pi, pm, True)

    def _card_error_body(self, code: str) -> dict:
        return {"type": "card_error", "code": "card_declined" if code != (
            "authentication_required") else "authentication_required",
            "decline_code": code, "message": DECLINE_MESSAGES.get(
                code, "Your card was declined. This transaction requires authentication.")}

    def _decline(self, pi: dict, pm: dict, code: str) -> dict:
        charge = self._charge(pi, pm, "failed", code)
        body = self._card_error_body(code)
        pi.update(status="requires_payment_method", latest_charge=charge["id"],
                  last_payment_error={**body, "charge": charge["id"]}, next_action=None)
        self._event("charge.failed", charge)
        self._event("payment_intent.payment_failed", pi)
        raise _error(402, "card_error", body["message"], code=body["code"],
                     decline_code=code, charge=charge["id"], payment_intent=pi,
                     doc_url=f"https://stripe.com/docs/error-codes/{body['code']}")

    def _settle_intent(self, pi: dict, pm: dict, succeed: bool,
                       after_auth: bool = False) -> dict:
        pi["next_action"] = None
        if not succeed:
            if after_auth:
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {
                    "type": "card_error", "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication."}
                self._event("payment_intent.payment_failed", pi)
                return pi
        if pi["capture_method"] == "manual":
            charge = self._charge(pi, pm, "succeeded", None, captured=False)
            pi.update(status="requires_capture", amount_capturable=pi["amount"],
                      latest_charge=charge["id"])
            self._event("payment_intent.amount_capturable_updated", pi)
            return pi
        charge = self._charge(pi, pm, "succeeded", None)
        pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
                  last_payment_error=None)
        if pi.get("setup_future_usage") and pi["customer"]:
            pm["customer"] = pi["customer"]
            self._setup_done.add(pm["id"])
        self._event("charge.succeeded", charge)
        self._event("payment_intent.succeeded", pi)
        return pi

    def capture_payment_intent(self, p: dict, ident: str) -> dict:
        pi = self._get(ident, "payment_intent")
        if pi["status"] != "requires_capture":
            raise _error(400, "invalid_request_error", f"This PaymentIntent could not be "
                         f"captured because it has a status of {pi['status']}.",
                         code="payment_intent_unexpected_state", payment_intent=pi)
        charge = self._get(pi["latest_charge"])
        charge.update(captured=True, amount_captured=charge["amount"])
        pi.update(status="succeeded", amount_capturable=0, amount_received=pi["amount"])
        self._event("charge.captured", charge)
        self._event("payment_intent.succeeded", pi)
        return pi

    def search_payment_intents(self, p: dict) -> dict:
        query = str(p.get("query", ""))
        clauses = re.findall(r"(metadata\['([^']+)'\]|status|customer):'([^']*)'", query)
        if not clauses:
            raise _error(400, "invalid_request_error", "Invalid search query.", param="query")
        found = []
        for obj in self.objects.values():
            if obj["object"] != "payment_intent":
                continue
            if all((obj["metadata"].get(meta) if meta else obj.get(field)) == value
                   for field, meta, value in clauses):
                found.append(obj)
        found.sort(key=lambda o: o["id"], reverse=True)
        limit = _int(p, "limit") or 10
        return {"object": "search_result", "data": found[:limit],
                "has_more": len(found) > limit, "next_page": None,
                "url": "/v1/payment_intents/search"}

    def _charge(self, pi: dict, pm: dict, status: str, code: str | None,
                captured: bool = True) -> dict:
        ok = status == "succeeded"
        charge = {"id": self._id("ch"), "object": "charge", "amount": pi["amount"],
                  "amount_captured": pi["amount"] if ok and captured else 0,
                  "amount_refunded": 0, "application": None, "application_fee": None,
                  "application_fee_amount": None, "balance_transaction": None,
                  "billing_details": pm["billing_details"],
                  "calculated_statement_descriptor": "BACKHAUL", "captured": ok and captured,
                  "created": int(time.time()), "currency": pi["currency"],
                  "customer": pi["customer"], "description": pi["description"],
                  "disputed": False, "failure_balance_transaction": None,
                  "failure_code": None if ok else ("card_declined" if code != (
                      "authentication_required") else code),
                  "failure_message": None if ok else DECLINE_MESSAGES.get(
                      code, "This transaction requires authentication."),
                  "fraud_details": {}, "invoice": None, "livemode": False,
                  "metadata": pi["metadata"], "on_behalf_of": None,
                  "outcome": {"network_status": "approved_by_network" if ok else
                              "declined_by_network", "reason": None if ok else code,
                              "risk_level": "normal", "seller_message": "Payment complete."
                              if ok else "The bank did not return any further details.",
                              "type": "authorized" if ok else "issuer_declined"},
                  "paid": ok, "payment_intent": pi["id"], "payment_method": pm["id"],
                  "payment_method_details": None, "receipt_email": None,
                  "receipt_number": None, "receipt_url": None, "refunded": False,
                  "review": None, "shipping": None, "source_transfer": None,
                  "statement_descriptor": None, "statement_descriptor_suffix": None,
                  "status": status, "transfer_data": None, "transfer_group": None}
        self.objects[charge["id"]] = charge
        return charge

    # refunds
    def create_refund(self, p: dict) -> dict:
        if p.get("payment_intent"):
            pi = self._get(p["payment_intent"], "payment_intent")
        elif p.get("charge"):
            pi = self._get(self._get(p["charge"], "charge")["payment_intent"])
        else:
            raise _error(400, "invalid_request_error", "One of the following params should "
                         "be provided for this request: payment_intent or charge.",
                         param="payment_intent", code="parameter_missing")
        if pi["status"] != "succeeded":
            raise _error(400, "invalid_request_error", f"This PaymentIntent ({pi['id']}) "
                         "does not have a successful charge to refund.",
                         param="payment_intent", code="charge_not_refundable")
        charge = self._get(pi["latest_charge"])
        left = charge["amount"] - charge["amount_refunded"]
        amount = _int(p, "amount", minimum=1)
        amount = left if amount is None else amount
        if left == 0:
            raise _error(400, "invalid_request_error", f"Charge {charge['id']} has already "
                         "been refunded.", code="charge_already_refunded")
        if amount > left:
            raise _error(400, "invalid_request_error", f"Refund amount ({amount}) is greater "
                         f"than unrefunded amount on charge ({left})", param="amount",
                         code="amount_too_large")
        refund = {"id": self._id("re"), "object": "refund", "amount": amount,
                  "balance_transaction": None, "charge": charge["id"],
                  "created": int(time.time()), "currency": charge["currency"],
                  "metadata": p.get("metadata") or {},
                  "payment_intent": pi["id"], "reason": p.get("reason"),
                  "receipt_number": None, "source_transfer_reversal": None,
                  "status": "succeeded", "transfer_reversal": None}
        self.objects[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._event("refund.created", refund)
        self._event("charge.refunded", charge)
        return refund

    def get_refund(self, p: dict, ident: str) -> dict:
        return self._get(ident, "refund")

    def get_charge(self, p: dict, ident: str) -> dict:
        return self._get(ident, "charge")

    # events
    def get_event(self, p: dict, ident: str) -> dict:
        return self._get(ident, "event")

    def list_events(self, p: dict) -> dict:
        limit = min(_int(p, "limit") or 10, 100)
        kind = p.get("type")
        found = [e for e in reversed(self.events) if not kind or e["type"] == kind]
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit,
                "url": "/v1/events"}

    # -- the 3-D Secure page ------------------------------------------------------------
    def three_ds_page(self, ident: str) -> str:
        obj = self._get(ident)
        amount = f"{obj['amount'] / 100:.2f} {obj['currency'].upper()}" if "amount" in obj \
            else "card setup"
        return (f"<!doctype html><title>3D Secure test page</title><h1>3D Secure 2 test "
                f"page</h1><p>Authenticate {html.escape(amount)} ({html.escape(ident)})</p>"
                f"<form method=post action=/_sim/3ds/{ident}/complete><button>Complete "
                f"authentication</button></form><form method=post action=/_sim/3ds/{ident}/"
                f"fail><button>Fail authentication</button></form>")

    def three_ds_answer(self, ident: str, succeed: bool) -> str:
        obj = self.authenticate(ident, succeed)
        back = obj.get("_return_url") or ""
        kind = "setup_intent" if obj["object"] == "setup_intent" else "payment_intent"
        query = urlencode({kind: obj["id"], f"{kind}_client_secret": obj["client_secret"],
                           "redirect_status": "succeeded" if obj["status"] in (
                               "succeeded", "processing", "requires_capture") else "failed"})
        return f"{back}{'&' if '?' in back else '?'}{query}" if back else ""


_EVIDENCE = {k: None for k in (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation",
    "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
    "shipping_tracking_number", "uncategorized_file", "uncategorized_text")}

_ROUTES = {
    ("POST", "/v1/customers"): "create_customer",
    ("GET", "/v1/customers/{id}"): "get_customer",
    ("POST", "/v1/payment_methods"): "create_payment_method",
    ("GET", "/v1/payment_methods/{id}"): "get_payment_method",
    ("POST", "/v1/payment_methods/{id}/attach"): "attach_payment_method",
    ("POST", "/v1/setup_intents"): "create_setup_intent",
    ("GET", "/v1/setup_intents/{id}"): "get_setup_intent",
    ("POST", "/v1/setup_intents/{id}/confirm"): "confirm_setup_intent",
    ("POST", "/v1/payment_intents"): "create_payment_intent",
    ("GET", "/v1/payment_intents/search"): "search_payment_intents",
    ("GET", "/v1/payment_intents/{id}"): "get_payment_intent",
    ("POST", "/v1/payment_intents/{id}/confirm"): "confirm_payment_intent",
    ("POST", "/v1/payment_intents/{id}/capture"): "capture_payment_intent",
    ("POST", "/v1/refunds"): "create_refund",
    ("GET", "/v1/refunds/{id}"): "get_refund",
    ("GET", "/v1/charges/{id}"): "get_charge",
    ("GET", "/v1/events/{id}"): "get_event",
    ("GET", "/v1/events"): "list_events",
}


def _public(obj):
    """Drop the simulator's private ``_fields`` from an answer."""
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


class _Handler(BaseHTTPRequestHandler):
    simulator: StripeSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        self.send_header("Access-Control-Allow-Origin", "*")  # Stripe.js calls from pages
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:  # CORS preflight of a page posting to /v1/payment_methods
        self._send(204, b"", {"Access-Control-Allow-Headers": "Authorization, Content-Type",
                              "Access-Control-Allow-Methods": "GET, POST"})

    def do_GET(self) -> None:
        self._api("GET")

    def do_POST(self) -> None:
        self._api("POST")

    def _api(self, method: str) -> None:
        sim = self.simulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if split.path.startswith("/_sim/3ds/"):
            return self._three_ds(method, split.path)
        params = decode_form(raw if method == "POST" else split.query)
        auth = self.headers.get("Authorization", "")
        # a server sends "Bearer sk_..."; Stripe.js sends its publishable key as ``key=``
        key = auth.removeprefix("Bearer ").strip() or str(params.pop("key", ""))
        sim.requests.append((method, split.path))
        idem = self.headers.get("Idempotency-Key") if method == "POST" else None
        fingerprint = hashlib.sha256(f"{split.path}\n{raw}".encode()).hexdigest()
        if idem:
            with sim._lock:
                stored = sim._idem.get((key, idem))
            if stored is not None:
                if stored[0] != fingerprint:
                    body = {"error": {"type": "idempotency_error", "message": (
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{idem}' if you meant to execute a different request.")}}
                    return self._send(400, json.dumps(body).encode())
                return self._send(stored[1], json.dumps(stored[2]).encode(),
                                  {"Idempotent-Replayed": "true", "Idempotency-Key": idem})
        try:
            status, answer = 200, sim.handle(method, split.path, params, key)
        except StripeError as exc:
            status, answer = exc.status, exc.body
        answer = _public(answer)
        if idem and status != 401:
            with sim._lock:
                sim._idem[(key, idem)] = (fingerprint, status, answer)
        if method == "POST" and self._dropping(split.path):
            self.close_connection = True
            self.connection.shutdown(2)  # the work is done; the answer never arrives
            return None
        return self._send(status, json.dumps(answer).encode(),
                          {"Idempotency-Key": idem} if idem else None)

    def _dropping(self, path: str) -> bool:
        sim = self.simulator
        with sim._lock:
            for i, prefix in enumerate(sim._drops):
                if path.startswith(prefix):
                    del sim._drops[i]
                    return True
        return False

    def _three_ds(self, method: str, path: str) -> None:
        sim = self.simulator
        parts = path.strip("/").split("/")  # _sim 3ds <id> [complete|fail]
        try:
            if method == "GET" and len(parts) == 3:
                return self._send(200, sim.three_ds_page(parts[2]).encode(),
                                  content_type="text/html; charset=utf-8")
            if method == "POST" and len(parts) == 4 and parts[3] in ("complete", "fail"):
                back = sim.three_ds_answer(parts[2], parts[3] == "complete")
                if back:
                    return self._send(302, b"", {"Location": back})
                return self._send(200, b"Authentication finished.", content_type="text/plain")
        except (StripeError, ValueError) as exc:
            return self._send(400, str(exc).encode(), content_type="text/plain")
        return self._send(404, b"not found", content_type="text/plain")
