"""Payment outcomes reported by gateway plugins (behind ``api.record_payment_outcome``).

Two kinds of outcome arrive here, told apart by the key:

* the answer to an auto-pay attempt billing started (``key`` = the attempt's idempotency
  key): settled through :func:`.autopay.record_answer`, exactly as a direct answer would be;
* a payment billing did not start (the customer paid at the processor): the processor's id
  of the payment is the key; a ``processed`` outcome records a payment on the account, once.

Either way a contradicting repeat (another account, amount, currency, method or gateway)
is a field error, never a silent success.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from backhaul.sdk import Money, PaymentResult, PaymentStatus, db

from .errors import invalid
from .models import Payment, PaymentAttempt


@dataclass(frozen=True)
class PaymentOutcome:
    """What :func:`record_payment_outcome` did.

    ``recorded`` is False for a repeat of an outcome already recorded (idempotent replay)
    and for an outcome that needs no record (a failed payment billing never asked for).
    """

    status: str
    payment_id: int | None
    account_id: int | None
    recorded: bool
    attempt_id: int | None = None


def _attempt(gateway: str, key: str, reference: str | None) -> PaymentAttempt | None:
    row = db.session.scalar(sa.select(PaymentAttempt).where(
        PaymentAttempt.idempotency_key == key))
    if row is None and reference:
        row = db.session.scalar(sa.select(PaymentAttempt).where(
            PaymentAttempt.gateway == gateway, PaymentAttempt.reference == reference))
    return row


def _check_attempt(row: PaymentAttempt, gateway: str, account_id: int | None,
                   amount: Money | None) -> None:
    if row.gateway != gateway:
        raise invalid("gateway", f"this attempt was made through '{row.gateway}'")
    if account_id is not None and account_id != row.account_id:
        raise invalid("account_id", "this key belongs to another account's payment")
    if amount is not None and (amount.amount, amount.currency) != (row.amount, row.currency):
        raise invalid("amount", f"the attempt was for {Money(row.amount, row.currency)}")


def record(gateway: str, key: str, status: PaymentStatus, *, reference: str | None,
           message: str, account_id: int | None, amount: Money | None, method: str,
           received_on: date | None, invoice_id: int | None):
    from . import autopay, ledger
    from .models import Invoice

    if not isinstance(key, str) or not key.strip() or len(key) > 150:
        raise invalid("key", "give the payment's idempotency key (1-150 characters)")
    row = _attempt(gateway, key, reference)
    if row is not None:
        _check_attempt(row, gateway, account_id, amount)
        before = (row.status, row.payment_id)
        autopay.record_answer(row, PaymentResult(status, reference, message),
                              late=row.status != "requested")
        db.session.refresh(row)
        return PaymentOutcome(row.status, row.payment_id, row.account_id,
                              (row.status, row.payment_id) != before, row.id)
    if status is not PaymentStatus.PROCESSED:
        return PaymentOutcome(status.value, None, account_id, False)
    if account_id is None:
        raise invalid("account_id", "required for a payment billing did not request")
    if amount is None:
        raise invalid("amount", "required for a payment billing did not request")
    ledger_key = f"gateway:{gateway}:{key}"
    existed = db.session.scalar(sa.select(Payment.id).where(Payment.key == ledger_key))
    invoice = None
    if invoice_id is not None:
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None:
            raise invalid("invoice_id", f"there is no invoice with id {invoice_id}")
    payment = ledger.record_payment(account_id, amount, method=method,
                                    received_on=received_on, reference=reference or key,
                                    key=ledger_key, invoice=invoice,
                                    recorded_by=f"gateway:{gateway}", check_limit=False)
    db.session.commit()
    return PaymentOutcome("processed", payment.id, account_id, existed is None)


__all__ = ["record"]
