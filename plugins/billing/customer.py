"""What a customer may see and do with their own account (behind ``api``, for the portal).

Every function takes the ``account_id`` the caller has already authenticated and answers
only about that account: an invoice id of another account is ``None`` (the caller answers
404), never an error that tells the two apart. Drafts are never shown. Plain frozen
dataclasses; no ORM object leaks out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from backhaul.sdk import Money, db

from . import accounts as billing_accounts
from . import delinquency, ledger
from . import settings as billing_settings
from .models import OPEN_STATUSES, Invoice, PaymentMethod, Transaction

#: the most rows a list answers (work a customer can cause is bounded)
MAX_ROWS = 200


@dataclass(frozen=True)
class AccountBilling:
    account_id: int
    currency: str
    #: the ledger's sum: positive = the customer owes it
    balance: Money
    #: the open invoices' unpaid total
    amount_due: Money
    #: money received and not applied to any invoice yet
    credit: Money
    #: ``current``, ``overdue`` (past due and grace: suspended tonight) or ``delinquent``
    standing: str
    #: auto-pay wanted (the account's setting or the default)
    autopay: bool
    #: a default stored payment method exists
    has_payment_method: bool


@dataclass(frozen=True)
class InvoiceLineInfo:
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    tax: Money


@dataclass(frozen=True)
class InvoiceInfo:
    id: int
    number: str
    kind: str
    status: str
    issue_date: date | None
    due_date: date | None
    period_start: date | None
    #: exclusive
    period_end: date | None
    subtotal: Money
    tax: Money
    total: Money
    paid: Money
    amount_due: Money
    overdue: bool
    lines: tuple[InvoiceLineInfo, ...] = ()

    @property
    def period_last_day(self) -> date | None:
        """The last day the invoice's period covers (``period_end`` is exclusive)."""
        return self.period_end - timedelta(days=1) if self.period_end else None


@dataclass(frozen=True)
class TransactionInfo:
    id: int
    at: datetime
    kind: str
    memo: str
    #: positive: the customer owes more; negative: owes less
    amount: Money
    invoice_id: int | None


def account_billing(account_id: int) -> AccountBilling:
    row = billing_accounts.get(account_id)
    defaults = billing_settings.load()
    currency = row.currency if row else defaults.currency
    autopay = defaults.autopay if row is None or row.autopay is None else row.autopay
    has_method = db.session.scalar(sa.select(PaymentMethod.id).where(
        PaymentMethod.account_id == account_id, PaymentMethod.is_default).limit(1))
    return AccountBilling(
        account_id=account_id, currency=currency,
        balance=billing_accounts.balance(account_id, currency),
        amount_due=ledger.amount_due(account_id, currency),
        credit=ledger.available_credit(account_id, currency),
        standing=delinquency.standing(account_id) if row else "current",
        autopay=bool(autopay), has_payment_method=has_method is not None)


def _info(doc: Invoice, with_lines: bool = False) -> InvoiceInfo:
    m = doc.money
    lines = tuple(InvoiceLineInfo(line.description, line.quantity, m(line.unit_price_amount),
                                  m(line.amount), m(line.tax_amount))
                  for line in doc.lines) if with_lines else ()
    is_open = doc.kind == "invoice" and doc.status in OPEN_STATUSES
    return InvoiceInfo(id=doc.id, number=doc.display_number, kind=doc.kind, status=doc.status,
                       issue_date=doc.issue_date, due_date=doc.due_date,
                       period_start=doc.period_start, period_end=doc.period_end,
                       subtotal=m(doc.subtotal_amount), tax=m(doc.tax_amount),
                       total=doc.total, paid=m(doc.paid_amount), amount_due=doc.amount_due,
                       overdue=bool(is_open and doc.due_date and doc.due_date < date.today()),
                       lines=lines)


def invoices(account_id: int, *, open_only: bool = False,
             limit: int = 50) -> list[InvoiceInfo]:
    """The account's invoices and credit notes, newest first (no drafts)."""
    stmt = sa.select(Invoice).where(Invoice.account_id == account_id,
                                    Invoice.status != "draft")
    if open_only:
        stmt = stmt.where(Invoice.kind == "invoice", Invoice.status.in_(OPEN_STATUSES))
        stmt = stmt.order_by(Invoice.due_date, Invoice.id)
    else:
        stmt = stmt.order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    rows = db.session.scalars(stmt.limit(max(1, min(limit, MAX_ROWS))))
    return [_info(doc) for doc in rows]


def _own(account_id: int, invoice_id: int) -> Invoice | None:
    doc = db.session.get(Invoice, invoice_id)
    if doc is None or doc.account_id != account_id or doc.status == "draft":
        return None
    return doc


def invoice(account_id: int, invoice_id: int) -> InvoiceInfo | None:
    """One of the account's invoices with its lines; ``None`` for any other id."""
    doc = _own(account_id, invoice_id)
    return _info(doc, with_lines=True) if doc else None


def invoice_pdf(account_id: int, invoice_id: int) -> tuple[str, bytes] | None:
    """``(file name, PDF bytes)`` of one of the account's invoices, drawn exactly as staff
    and the e-mailed copy see it; ``None`` for any other id."""
    from .pdf import render_invoice

    doc = _own(account_id, invoice_id)
    return (f"{doc.display_number}.pdf", render_invoice(doc)) if doc else None


def transactions(account_id: int, limit: int = 50) -> list[TransactionInfo]:
    rows = db.session.scalars(sa.select(Transaction).where(
        Transaction.account_id == account_id).order_by(Transaction.id.desc())
        .limit(max(1, min(limit, MAX_ROWS))))
    return [TransactionInfo(t.id, t.created_at, t.kind, t.memo, Money(t.amount, t.currency),
                            t.invoice_id) for t in rows]


def set_autopay(account_id: int, on: bool) -> AccountBilling:
    """Turn auto-pay on or off for the account (flushes; the caller commits)."""
    if not isinstance(on, bool):
        from .errors import invalid

        raise invalid("autopay", "must be true or false")
    billing_accounts.update(account_id, autopay=on)
    return account_billing(account_id)


__all__ = ["AccountBilling", "InvoiceInfo", "InvoiceLineInfo", "TransactionInfo",
           "account_billing", "invoice", "invoice_pdf", "invoices", "set_autopay",
           "transactions"]
