"""The ledger: append-only transactions, payments, allocations, reversals, refunds.

An account's balance is the sum of its transactions (positive: it owes). Every row is
written once; corrections are new rows. Invariant, checked by the property tests::

    balance == sum(amount due of open invoices) - unallocated credit

where unallocated credit is what completed payments and credit notes have not (yet) been
applied to. Payments are applied to open invoices in the configured order (oldest first by
default); what is left stays as credit and is applied to the next invoice when it is
finalized. A reversal (a bounced cheque, a chargeback) takes the payment's allocations back,
re-opening the invoices it had paid.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from backhaul.sdk import Money, db, emit, utcnow

from . import accounts as billing_accounts
from . import followups
from . import settings as billing_settings
from .allocation import OpenItem, allocate
from .catalogue import money
from .errors import bounded_date, clean_text, invalid
from .models import (
    OPEN_STATUSES,
    PAYMENT_METHODS,
    Allocation,
    BillingAccount,
    Invoice,
    Payment,
    Transaction,
)


def post(account_id: int, kind: str, amount: Money, *, invoice_id: int | None = None,
         payment_id: int | None = None, memo: str = "", key: str | None = None) -> Transaction:
    """Append one ledger row."""
    row = Transaction(account_id=account_id, kind=kind, amount=amount.amount,
                      currency=amount.currency, invoice_id=invoice_id, payment_id=payment_id,
                      memo=memo[:300], key=key)
    db.session.add(row)
    return row


def status_for(total: int, paid: int) -> str:
    if paid >= total:
        return "paid"
    return "partially_paid" if paid > 0 else "finalized"


def open_invoices(account_id: int) -> list[Invoice]:
    return list(db.session.scalars(
        sa.select(Invoice).where(Invoice.account_id == account_id, Invoice.kind == "invoice",
                                 Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.due_date, Invoice.issue_date, Invoice.id).with_for_update()))


def amount_due(account_id: int, currency: str) -> Money:
    due = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        Invoice.total_amount - Invoice.paid_amount), 0)).where(
        Invoice.account_id == account_id, Invoice.kind == "invoice",
        Invoice.currency == currency, Invoice.status.in_(OPEN_STATUSES)))
    return Money(int(due), currency)


def _apply(source: dict, amount: int, invoices: list[Invoice], order: str,
           first: int | None = None) -> int:
    """Allocate ``amount`` from ``source`` ({payment_id=..} or {credit_note_id=..})."""
    by_id = {inv.id: inv for inv in invoices}
    items = [OpenItem(inv.id, inv.total_amount - inv.paid_amount, inv.due_date,
                      inv.issue_date) for inv in invoices]
    parts, leftover = allocate(amount, items, order, first)
    for invoice_id, part in parts:
        invoice = by_id[invoice_id]
        db.session.add(Allocation(invoice_id=invoice_id, amount=part, **source))
        invoice.paid_amount += part
        invoice.status = status_for(invoice.total_amount, invoice.paid_amount)
    return amount - leftover


# ------------------------------------------------------------------------------ credit
def unallocated_payments(account_id: int) -> list[tuple[int, int]]:
    """``[(payment id, unallocated minor units), ...]`` oldest first."""
    allocated = (sa.select(Allocation.payment_id, sa.func.sum(Allocation.amount).label("used"))
                 .group_by(Allocation.payment_id).subquery())
    rows = db.session.execute(
        sa.select(Payment.id, Payment.amount - Payment.refunded_amount
                  - sa.func.coalesce(allocated.c.used, 0))
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(Payment.account_id == account_id, Payment.status == "completed")
        .order_by(Payment.received_on, Payment.id))
    return [(pid, int(left)) for pid, left in rows if left > 0]


def unallocated_credit_notes(account_id: int) -> list[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Invoice.id, Invoice.total_amount - Invoice.paid_amount)
        .where(Invoice.account_id == account_id, Invoice.kind == "credit_note",
               Invoice.status == "finalized", Invoice.total_amount > Invoice.paid_amount)
        .order_by(Invoice.id))
    return [(cid, int(left)) for cid, left in rows]


def available_credit(account_id: int, currency: str) -> Money:
    total = sum(left for _, left in unallocated_payments(account_id))
    total += sum(left for _, left in unallocated_credit_notes(account_id))
    return Money(total, currency)


def apply_credit(account_id: int, order: str | None = None, first: int | None = None) -> int:
    """Apply unallocated payments and credit notes to open invoices; returns minor units.

    ``first``: an invoice id served before the policy order (the invoice a credit note is for).
    """
    invoices = open_invoices(account_id)
    if not invoices:
        return 0
    order = order or billing_settings.load().allocation_order
    applied = 0
    for payment_id, left in unallocated_payments(account_id):
        applied += _apply({"payment_id": payment_id}, left, invoices, order, first)
    for note_id, left in unallocated_credit_notes(account_id):
        used = _apply({"credit_note_id": note_id}, left, invoices, order, first)
        if used:
            note = db.session.get(Invoice, note_id)
            note.paid_amount += used
            applied += used
    db.session.flush()
    return applied


# ------------------------------------------------------------------------------ payments
def record_payment(account_id: int, amount: Money | str, *, method: str,
                   received_on: date | None = None, reference: str = "",
                   key: str | None = None, invoice: Invoice | None = None,
                   recorded_by: str = "", memo: str = "", check_limit: bool = True) -> Payment:
    """Record money received and apply it. Idempotent with ``key`` (a bank reference...).

    Refused (nothing written): a non-positive amount, another currency, an unknown method,
    an invoice of another account, or a payment that would leave more credit on the account
    than the ``max_overpayment`` setting allows (``check_limit=False`` for money a gateway
    already took: it must be recorded whatever it is).
    """
    defaults = billing_settings.load()
    reference = clean_text("reference", reference, max_length=200, required=False)
    memo = clean_text("memo", memo, max_length=500, required=False)
    if key is not None:
        key = clean_text("key", key, max_length=200)
    if received_on is not None:  # money arrives today or earlier (a day's slack: time zones)
        bounded_date("received_on", received_on, past_days=3 * 366, future_days=1)
    row = billing_accounts.ensure(account_id, defaults=defaults)
    # One payment at a time per account: a keyed payment recorded concurrently (a gateway's
    # webhook and the customer's own page reporting the same charge) is found below by the
    # second writer once the first commits, instead of failing on the unique key.
    db.session.execute(sa.select(BillingAccount.account_id).where(
        BillingAccount.account_id == account_id).with_for_update())
    value = money(amount, row.currency, "amount")
    if key is not None:
        existing = db.session.scalar(sa.select(Payment).where(Payment.key == key))
        if existing is not None:
            return _replay(existing, account_id, value, method)
    if value.amount <= 0:
        raise invalid("amount", "must be greater than zero (record a refund or a reversal "
                                "to give money back)")
    if method not in PAYMENT_METHODS:
        raise invalid("method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    if invoice is not None and invoice.account_id != account_id:
        raise invalid("invoice", "belongs to another account")
    invoices = open_invoices(account_id)
    due = sum(inv.total_amount - inv.paid_amount for inv in invoices)
    if check_limit and defaults.max_overpayment is not None and value.amount - due > (
            defaults.max_overpayment.amount):
        raise invalid("amount", f"{value} is more than the {Money(due, value.currency)} due "
                                f"plus the {defaults.max_overpayment} of credit allowed: "
                                "check the amount, or refund the difference")
    payment = Payment(account_id=account_id, amount=value.amount, currency=value.currency,
                      method=method, reference=reference, received_on=received_on or
                      date.today(), key=key, recorded_by=recorded_by, memo=memo)
    db.session.add(payment)
    db.session.flush()
    post(account_id, "payment", -value, payment_id=payment.id,
         memo=f"Payment ({method}) {reference}".strip())
    _apply({"payment_id": payment.id}, value.amount, invoices, defaults.allocation_order,
           first=invoice.id if invoice is not None else None)
    db.session.flush()
    emit("payment_received", payment_id=payment.id, account_id=account_id, amount=value)
    from backhaul.plugins.notifications.api import (
        notify,  # a no-op without the notifications plugin
    )

    notify("billing.payment_received", account_id,
           {"payment": {"amount": value, "method": method.replace("_", " ")}},
           dedupe_key=f"payment:{payment.id}")
    followups.balance_changed(account_id)
    return payment


def _replay(existing: Payment, account_id: int, value: Money, method: str) -> Payment:
    """A repeat of a keyed payment: the same facts answer the first payment; different
    facts are an error (a key is never a way to read another account's payment)."""
    if existing.account_id != account_id:
        raise invalid("key", "this key was already used for a payment on another account: "
                             "use a new key")
    if existing.currency != value.currency or existing.amount != value.amount:
        raise invalid("amount", f"this key was already used for a payment of "
                                f"{existing.money}: use a new key for a new payment")
    if existing.method != method:
        raise invalid("method", f"this key was already used for a {existing.method} "
                                "payment: use a new key for a new payment")
    return existing


def reverse_payment(payment: Payment, reason: str) -> Payment:
    """A bounced payment or chargeback: the money comes back off the account.

    The payment's allocations are taken back (the invoices it paid are open again) and a
    ``reversal`` row re-debits the account. A payment can be reversed once; a refunded one
    cannot (reverse the refund's cause instead).
    """
    if payment.status == "reversed":
        raise invalid("payment", f"payment #{payment.id} was already reversed on "
                                 f"{payment.reversed_at:%Y-%m-%d}")
    if payment.refunded_amount:
        raise invalid("payment", f"payment #{payment.id} was partly refunded; a reversal "
                                 "would take back money the customer already got")
    per_invoice: dict[int, int] = defaultdict(int)
    for invoice_id, amount in db.session.execute(
            sa.select(Allocation.invoice_id, Allocation.amount)
            .where(Allocation.payment_id == payment.id)):
        per_invoice[invoice_id] += amount
    for invoice_id, amount in sorted(per_invoice.items()):
        if amount <= 0:
            continue
        invoice = db.session.get(Invoice, invoice_id, with_for_update=True)
        db.session.add(Allocation(invoice_id=invoice_id, payment_id=payment.id, amount=-amount))
        invoice.paid_amount -= amount
        invoice.status = status_for(invoice.total_amount, invoice.paid_amount)
    payment.status = "reversed"
    payment.reversed_at = utcnow()
    payment.reversal_reason = reason
    post(payment.account_id, "reversal", payment.money, payment_id=payment.id,
         memo=f"Reversal of payment #{payment.id}: {reason}")
    db.session.flush()
    followups.balance_changed(payment.account_id)  # the same consequences as a payment
    return payment


def refund(payment: Payment, amount: Money, reason: str = "") -> Transaction:
    """Give back unallocated credit from ``payment`` (the money itself moves elsewhere)."""
    if payment.status != "completed":
        raise invalid("payment", "only a completed payment can be refunded")
    left = dict(unallocated_payments(payment.account_id)).get(payment.id, 0)
    if amount.currency != payment.currency or not 0 < amount.amount <= left:
        raise invalid("amount", f"can refund at most {Money(left, payment.currency)}: the "
                                "rest of the payment is applied to invoices")
    payment.refunded_amount += amount.amount
    row = post(payment.account_id, "refund", amount, payment_id=payment.id,
               memo=f"Refund from payment #{payment.id} {reason}".strip())
    db.session.flush()
    followups.balance_changed(payment.account_id)
    return row


__all__ = ["amount_due", "apply_credit", "available_credit", "open_invoices", "post",
           "record_payment", "refund", "reverse_payment", "status_for"]
