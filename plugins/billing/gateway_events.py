"""Processor events and gateway refunds: the webhook route's logic, kept out of Flask.

``POST /billing/gateways/<key>/webhook`` hands the raw request to the gateway's
``parse_webhook`` (which verifies the signature and says what the event means, as a
``WebhookEvent``); :func:`apply_event` then acts **once per event id** (a
``billing_gateway_event`` row written in the same transaction as the effects) and
**convergently**: every event carries what the payment took, and each refund is its own
keyed ledger row, so events applied in any order, late or twice, leave the same ledger:

* ``processing`` -> the attempt is pending (nothing in the ledger);
* ``failed`` -> the attempt is declined (dunning, as for a direct answer);
* ``succeeded`` -> the payment is recorded (once, keyed) through ``record_payment_outcome``;
* ``refunded`` -> the payment is recorded if it was not yet, then that refund (by the
  processor's refund id, once);
* ``disputed`` -> the payment is recorded if it was not yet, then reversed (chargeback).

After a refund or a reversal, credit the account still holds is applied to its open
invoices, so the invoices end the same whichever payment's event came first.

:func:`refund_payment` is the staff road (payment page, GraphQL): the gateway refunds and the
ledger records it under the processor's refund id, so the refund's own webhook later finds
it recorded.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import Money, PaymentStatus, WebhookEvent, WebhookOutcome, db, registered

from . import ledger
from .errors import ValidationError, invalid
from .models import (
    Allocation,
    GatewayEvent,
    Invoice,
    Payment,
    PaymentAttempt,
    Transaction,
)

log = logging.getLogger("backhaul.billing.gateway_events")
#: a webhook body larger than this is refused before the gateway sees it
MAX_BODY = 256 * 1024


def receive_webhook(gateway_key: str, headers: dict, body: bytes) -> tuple[int, str]:
    """The route's work: ``(HTTP status, short text)``. A bad signature is a 400 and
    changes nothing; a gateway that raises is contained (500, logged, nothing changed)."""
    gateway = registered("payment_gateways").get(gateway_key)
    if gateway is None:
        return 404, f"no payment gateway '{gateway_key}' is enabled"
    if len(body) > MAX_BODY:
        return 413, "body too large"
    try:
        event = gateway.parse_webhook(headers, body)
    except Exception:
        log.exception("gateway %s failed to parse a webhook", gateway_key)
        return 500, "the gateway could not read this event"
    if event is None:
        return 400, "signature verification failed"
    try:
        return 200, apply_event(gateway_key, event)
    except ValidationError as exc:  # a contradiction: refuse, change nothing, say why
        db.session.rollback()
        return 422, f"refused: {exc.normalized_messages()}"


def apply_event(gateway: str, event: WebhookEvent) -> str:
    """Act on ``event`` once; returns what was done (``"duplicate"`` for a repeat)."""
    if _seen(gateway, event.id):
        return "duplicate"
    row = GatewayEvent(gateway=gateway, event_id=event.id[:200], type=event.type[:100],
                       key=(event.key or "")[:200])
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent delivery of the same event won
        db.session.rollback()
        return "duplicate"
    row_id = row.id
    try:
        result = _act(gateway, event)[:300]
    except Exception:  # record_payment_outcome may have committed the row: forget it
        db.session.rollback()
        db.session.execute(sa.delete(GatewayEvent).where(GatewayEvent.id == row_id))
        db.session.commit()
        raise
    db.session.execute(sa.update(GatewayEvent).where(GatewayEvent.id == row_id)
                       .values(result=result))
    db.session.commit()  # the event row and whatever _act left uncommitted
    return result


def _seen(gateway: str, event_id: str) -> bool:
    return db.session.scalar(sa.select(GatewayEvent.id).where(
        GatewayEvent.gateway == gateway, GatewayEvent.event_id == event_id)) is not None


def _act(gateway: str, event: WebhookEvent) -> str:
    from .api import record_payment_outcome

    if event.outcome is None or not event.key:
        return "ignored"
    kw = {"reference": event.reference, "message": event.message}
    if event.outcome == WebhookOutcome.PROCESSING:
        attempt = db.session.scalar(sa.select(PaymentAttempt).where(
            PaymentAttempt.idempotency_key == event.key))
        if attempt is not None and attempt.status in ("processed", "error", "canceled"):
            return "late processing event: the attempt is settled"  # never step back
        return record_payment_outcome(gateway, event.key, PaymentStatus.PENDING, **kw).status
    if event.outcome == WebhookOutcome.FAILED:
        return record_payment_outcome(gateway, event.key, PaymentStatus.ERROR, **kw).status
    outcome = record_payment_outcome(
        gateway, event.key, PaymentStatus.PROCESSED, account_id=event.account_id,
        amount=event.amount, method="card", invoice_id=event.invoice_id, **kw)
    if outcome.payment_id is None:
        return outcome.status
    payment = db.session.get(Payment, outcome.payment_id, with_for_update=True)
    if event.outcome == WebhookOutcome.REFUNDED and event.refunded is not None:
        done = record_refund(payment, event.refunded, f"{gateway}:{event.refund_id or event.id}")
    elif event.outcome == WebhookOutcome.DISPUTED and event.disputed and event.disputed.amount:
        if payment.status == "reversed":
            return "already reversed"
        ledger.reverse_payment(payment, f"dispute at {gateway} ({event.id})")
        done = "reversed (dispute)"
    else:
        return "processed"
    ledger.apply_credit(payment.account_id)
    return done


def record_refund(payment: Payment, amount: Money, refund_key: str) -> str:
    """Record one refund of ``payment`` (the processor's refund ``refund_key``), once. Money
    already applied to invoices is taken back from the newest invoice first (it is open
    again). The caller holds the payment's row lock."""
    key = f"refund:{refund_key}"[:200]
    if db.session.scalar(sa.select(Transaction.id).where(Transaction.key == key)):
        return "refund already recorded"
    if amount.currency != payment.currency:
        raise invalid("amount", f"the payment is in {payment.currency}")
    if payment.status != "completed":
        return "payment reversed; refund not applied"
    value = min(amount.amount, payment.amount - payment.refunded_amount)
    if value <= 0:
        return "nothing left to refund"
    left = dict(ledger.unallocated_payments(payment.account_id)).get(payment.id, 0)
    if value > left:
        _take_back(payment, value - left)
    row = ledger.refund(payment, Money(value, payment.currency), f"({refund_key})")
    row.key = key
    db.session.flush()
    return f"refunded {Money(value, payment.currency)}"


def _take_back(payment: Payment, amount: int) -> None:
    per_invoice = dict(db.session.execute(
        sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount))
        .where(Allocation.payment_id == payment.id).group_by(Allocation.invoice_id)).all())
    for invoice_id in sorted(per_invoice, reverse=True):
        take = min(amount, int(per_invoice[invoice_id]))
        if take <= 0:
            continue
        invoice = db.session.get(Invoice, invoice_id, with_for_update=True)
        db.session.add(Allocation(invoice_id=invoice_id, payment_id=payment.id, amount=-take))
        invoice.paid_amount -= take
        invoice.status = ledger.status_for(invoice.total_amount, invoice.paid_amount)
        amount -= take
        if amount == 0:
            break
    db.session.flush()


def gateway_of(payment: Payment) -> tuple[str, str] | None:
    """``(gateway key, processor reference)`` of a payment a gateway took, else ``None``."""
    attempt = db.session.scalar(sa.select(PaymentAttempt).where(
        PaymentAttempt.payment_id == payment.id))
    if attempt is not None and attempt.reference:
        return attempt.gateway, attempt.reference
    if payment.recorded_by.startswith("gateway:") and payment.reference:
        return payment.recorded_by.removeprefix("gateway:"), payment.reference
    return None


def refund_payment(payment_id: int, amount: Money | str, *, key: str) -> str:
    """Refund (part of) a card payment through its gateway and record it; idempotent by
    ``key`` (a double-click refunds once; the gateway gets ``refund:<key>`` as its own
    idempotency key). Raises ``ValidationError`` naming the field. The caller commits."""
    from .catalogue import money

    payment = db.session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise invalid("payment_id", f"there is no payment {payment_id}")
    if not key or len(key) > 150:
        raise invalid("key", "give a refund key of 1-150 characters")
    if _seen_refund(key):
        return "duplicate"
    found = gateway_of(payment)
    gateway = registered("payment_gateways").get(found[0]) if found else None
    if gateway is None or not gateway.capabilities.refunds:
        raise invalid("payment_id", "this payment was not taken by a gateway that refunds: "
                                    "record a manual refund instead")
    value = money(amount, payment.currency, "amount")
    left = payment.amount - payment.refunded_amount
    if value.currency != payment.currency or not 0 < value.amount <= left:
        raise invalid("amount", f"give an amount between 0 and {Money(left, payment.currency)}")
    if value.amount < left and not gateway.capabilities.partial_refunds:
        raise invalid("amount", f"{gateway.label} refunds only the whole remaining amount")
    result = gateway.refund(value, found[1], idempotency_key=f"refund:{key}")
    if result.status not in (PaymentStatus.PROCESSED, PaymentStatus.PENDING):
        raise invalid("amount", f"the gateway refused the refund: {result.message}")
    db.session.add(GatewayEvent(gateway=found[0], event_id=f"refund:{key}", type="refund",
                                key=key, result=result.reference or ""))
    done = record_refund(payment, value, f"{found[0]}:{result.reference or key}")
    ledger.apply_credit(payment.account_id)
    return done


def _seen_refund(key: str) -> bool:
    return db.session.scalar(sa.select(GatewayEvent.id).where(
        GatewayEvent.event_id == f"refund:{key}")) is not None


__all__ = ["apply_event", "gateway_of", "receive_webhook", "record_refund", "refund_payment"]
