"""Paying from the portal: an invoice or the whole balance, through an enabled gateway.

The amount is always computed here from billing's figures (an invoice's amount due, or the
balance), never taken from the browser. A :class:`PortalPayment` row is written and
**committed before the gateway is called**; its ``key`` is the gateway's idempotency key and
travels in the payment's metadata, so the gateway's webhook (billing's route) and this
module record the same payment under the same key: whichever comes first records it, the
other is a replay (``billing.api.record_payment_outcome`` is idempotent by key).

Double submits are harmless: while a payment of the same account and invoice (or balance)
is started, pending or undefined, starting another returns that one (asking the gateway
about it first). At most
:data:`MAX_PER_HOUR` payments an hour per account (work a customer can cause is bounded).
A gateway that raises leaves the payment ``undefined``: nobody knows whether money moved, so
it is never simply retried; :func:`refresh` asks the gateway (``fetch`` / ``find``).
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from backhaul.plugins.billing import api as billing
from backhaul.sdk import Customer, Money, PaymentStatus, db, registered, utcnow

from .api import PortalViewer
from .models import PortalPayment

log = logging.getLogger("backhaul.portal.payments")

MAX_PER_HOUR = 10
OPEN = ("started", "pending")
#: a started/pending payment younger than this stops a second one for the same thing
DUPLICATE_WINDOW = timedelta(minutes=15)


def _configured(gateway) -> bool:
    try:
        gateway.settings()
    except LookupError:
        return False
    return True


def card_form(gateways: dict) -> tuple[str, dict | None]:
    """The gateway a new card is entered for and its browser card form (``None``: the
    gateway takes a payment-method reference typed or pasted in, e.g. a test double).
    Prefers a gateway with a card form."""
    for key, gateway in gateways.items():
        try:
            form = gateway.card_form()
        except (LookupError, KeyError):
            form = None
        if form and str(form.get("url", "")).startswith(("https://", "http://")):
            return key, form
    return next(iter(gateways), ""), None


def gateways(capability: str = "checkout") -> dict:
    """Enabled gateways that can do ``capability`` and have an account configured."""
    return {key: gw for key, gw in registered("payment_gateways").items()
            if getattr(gw.capabilities, capability, False) and _configured(gw)}


def amount_for(viewer: PortalViewer, invoice_id: int | None) -> Money:
    """What this payment is for, from billing's own figures; a field error when nothing."""
    if invoice_id is not None:
        doc = billing.customer_invoice(viewer.account_id, invoice_id)
        if doc is None:
            raise LookupError(invoice_id)  # not this account's: the page answers 404
        if doc.amount_due.amount <= 0:
            raise ValidationError({"invoice": [f"{doc.number} has nothing left to pay."]})
        return doc.amount_due
    balance = billing.customer_billing(viewer.account_id).balance
    if balance.amount <= 0:
        raise ValidationError({"amount": ["Your balance is settled: there is nothing to pay."]})
    return balance


def _duplicate(viewer: PortalViewer, invoice_id: int | None) -> PortalPayment | None:
    """A payment of the same thing that may still take the money: started or pending (for
    :data:`DUPLICATE_WINDOW`), or undefined — nobody knows whether it was charged — for a
    day, until :func:`refresh` learns its fate from the gateway."""
    now = utcnow()
    return db.session.scalar(sa.select(PortalPayment).where(
        PortalPayment.account_id == viewer.account_id,
        PortalPayment.invoice_id.is_(None) if invoice_id is None
        else PortalPayment.invoice_id == invoice_id,
        sa.or_(sa.and_(PortalPayment.status.in_(OPEN),
                       PortalPayment.created_at > now - DUPLICATE_WINDOW),
               sa.and_(PortalPayment.status == "undefined",
                       PortalPayment.created_at > now - timedelta(days=1))))
        .order_by(PortalPayment.id.desc()).limit(1))


def start(viewer: PortalViewer, gateway_key: str, *, invoice_id: int | None,
          method_ref: str, save_method: bool,
          return_url: Callable[[int], str]) -> tuple[PortalPayment, object]:
    """Start (or, for a double submit, find) a payment; returns it and the gateway's
    ``Checkout`` (``None`` when none was started now). ``return_url(payment id)`` is where a
    bank's page sends the customer back. Commits."""
    gateway = gateways().get(gateway_key)
    if gateway is None:
        raise ValidationError({"gateway": ["Choose one of the payment methods offered."]})
    amount = amount_for(viewer, invoice_id)
    existing = _duplicate(viewer, invoice_id)
    if existing is not None:
        return refresh(existing), None
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(PortalPayment).where(
        PortalPayment.account_id == viewer.account_id,
        PortalPayment.created_at > utcnow() - timedelta(hours=1))) or 0
    if recent >= MAX_PER_HOUR:
        raise ValidationError({"amount": ["Too many payments started in the last hour. Try "
                                          "again later, or contact us."]})
    row = PortalPayment(key=f"portal:{secrets.token_hex(12)}", account_id=viewer.account_id,
                        contact_id=viewer.contact_id, invoice_id=invoice_id,
                        amount=amount.amount, currency=amount.currency, gateway=gateway_key)
    db.session.add(row)
    db.session.commit()  # the key exists before any money can move
    try:
        checkout = gateway.start_checkout(
            amount, Customer(viewer.account_id, viewer.name, viewer.email),
            idempotency_key=row.key, method_ref=(method_ref or "").strip()[:200],
            save_method=save_method, return_url=return_url(row.id),
            description=f"Payment from the customer portal (account {viewer.account_id})",
            metadata={"account_id": viewer.account_id, "invoice_id": invoice_id,
                      "idempotency_key": row.key, "source": "portal"})
    except Exception as exc:  # we do not know whether money moved: check, never retry
        log.warning("gateway %s raised on %s: %s", gateway_key, row.key, type(exc).__name__)
        db.session.rollback()
        row = db.session.get(PortalPayment, row.id)
        row.status, row.message = "undefined", "We did not get an answer from the payment " \
                                               "processor; we are checking."
        db.session.commit()
        return row, None
    apply(row, checkout.status, checkout.reference, checkout.message)
    if row.status == "pending" and checkout.redirect_url.startswith(("https://", "http://")):
        row.action_url = checkout.redirect_url[:1000]
    if save_method and row.status == "processed" and checkout.method_ref:
        billing.save_payment_method(viewer.account_id, gateway_key, checkout.method_ref,
                                    "Card")
    db.session.commit()
    return row, checkout


def apply(row: PortalPayment, status: PaymentStatus | str, reference: str | None,
          message: str = "") -> None:
    """Record what the gateway said; a processed payment goes into billing's ledger once."""
    status = PaymentStatus(status)
    if row.status == "processed":
        return
    if status is PaymentStatus.PROCESSED:
        _record(row, reference or row.reference)
    row.reference = reference or row.reference
    row.message = (message or "")[:500]
    row.status = {PaymentStatus.PROCESSED: "processed", PaymentStatus.PENDING: "pending",
                  PaymentStatus.ERROR: "error", PaymentStatus.CANCELED: "error",
                  PaymentStatus.UNDEFINED: "undefined"}[status]
    if row.status != "pending":
        row.action_url = ""
    db.session.flush()


def _record(row: PortalPayment, reference: str | None) -> None:
    """Into billing's ledger under the payment's key. The processor's webhook may record the
    same payment at the same moment (the same key: one of the two inserts loses): then the
    second try finds it recorded and changes nothing."""
    for attempt in (1, 2):
        try:
            billing.record_payment_outcome(
                row.gateway, row.key, PaymentStatus.PROCESSED, reference=reference,
                account_id=row.account_id, amount=Money(row.amount, row.currency),
                method="card", invoice_id=row.invoice_id)
            return
        except IntegrityError:
            if attempt == 2:
                raise
            db.session.rollback()
            log.info("payment %s was being recorded by its webhook at the same time", row.key)


def refresh(row: PortalPayment) -> PortalPayment:
    """Ask the gateway about a payment that has no final answer yet (commits)."""
    if row.status not in ("started", "pending", "undefined"):
        return row
    gateway = registered("payment_gateways").get(row.gateway)
    if gateway is None:
        return row
    try:
        result = gateway.fetch(row.reference) if row.reference else gateway.find(row.key)
    except Exception as exc:
        log.warning("gateway %s: asking about %s failed: %s", row.gateway, row.key,
                    type(exc).__name__)
        return row
    if result is not None and PaymentStatus(result.status) is not PaymentStatus.UNDEFINED:
        apply(row, result.status, result.reference, result.message)
        db.session.commit()
    return row


def reconcile(older_than: timedelta = timedelta(minutes=5), limit: int = 200) -> int:
    """Ask the gateways about payments still without a final answer (the customer may never
    come back to the page): the periodic job. Returns how many were asked about."""
    rows = db.session.scalars(sa.select(PortalPayment).where(
        PortalPayment.status.in_(("started", "pending", "undefined")),
        PortalPayment.updated_at <= utcnow() - older_than)
        .order_by(PortalPayment.id).limit(limit)).all()
    for row in rows:
        refresh(row)
    return len(rows)


def get(viewer: PortalViewer, payment_id: int) -> PortalPayment | None:
    """One of the viewer's account's payments; ``None`` for any other id."""
    row = db.session.get(PortalPayment, payment_id)
    return row if row is not None and row.account_id == viewer.account_id else None


def save_card(viewer: PortalViewer, gateway_key: str, method_ref: str,
              return_url: str) -> tuple[object | None, str]:
    """Save (or replace) the account's card through the gateway's setup step. Returns the
    ``SavedMethod`` (``None`` while the customer must still act) and a redirect address
    (empty when none is needed). Commits."""
    gateway = gateways("saved_methods").get(gateway_key)
    if gateway is None:
        raise ValidationError({"gateway": ["Choose one of the payment methods offered."]})
    customer = Customer(viewer.account_id, viewer.name, viewer.email)
    setup = gateway.start_setup(customer, idempotency_key=f"portal-setup:"
                                f"{secrets.token_hex(12)}", return_url=return_url)
    if PaymentStatus(setup.status) is PaymentStatus.ERROR:
        raise ValidationError({"method_ref": [setup.message or "The card was refused."]})
    if setup.redirect_url and not method_ref:
        return None, setup.redirect_url
    saved = gateway.finish_setup(setup.reference, (method_ref or "").strip()[:200])
    if saved is None:
        raise ValidationError({"method_ref": ["The card could not be saved: check it, or "
                                              "try another card."]})
    billing.save_payment_method(viewer.account_id, gateway_key, saved.method_ref,
                                saved.label or "Card")
    db.session.commit()
    return saved, ""


__all__ = ["MAX_PER_HOUR", "amount_for", "apply", "card_form", "gateways", "get", "reconcile",
           "refresh", "save_card",
           "start"]
