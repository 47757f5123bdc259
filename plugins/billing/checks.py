"""Integrity checks of the money data: "the ledger balances to the cent".

Run by the tests (after every crash of the crash-injection test), by ``backhaul billing
check`` and usable from a monitoring job. Each check is one set-based query over all
accounts and returns the offending rows (empty = healthy):

* every invoice's total equals the sum of its lines (amounts + taxes), and no finalized
  invoice is without lines;
* every invoice's ``paid_amount`` equals the sum of the allocations made to it;
* no account/period has two invoices (the unique key makes this impossible; checked anyway);
* per account: ``balance == amount due on open invoices - unallocated credit``.
"""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db

from .models import OPEN_STATUSES, Allocation, Invoice, InvoiceLine, Payment, Transaction


def invoice_totals() -> list[tuple]:
    lines = (sa.select(InvoiceLine.invoice_id,
                       sa.func.sum(InvoiceLine.amount + InvoiceLine.tax_amount).label("sum"),
                       sa.func.count().label("n"))
             .group_by(InvoiceLine.invoice_id).subquery())
    return list(db.session.execute(
        sa.select(Invoice.id, Invoice.total_amount, lines.c.sum)
        .outerjoin(lines, lines.c.invoice_id == Invoice.id)
        .where(Invoice.status != "draft", sa.or_(
            lines.c.sum.is_(None), lines.c.sum != Invoice.total_amount))))


def paid_amounts() -> list[tuple]:
    allocated = (sa.select(Allocation.invoice_id, sa.func.sum(Allocation.amount).label("sum"))
                 .group_by(Allocation.invoice_id).subquery())
    return list(db.session.execute(
        sa.select(Invoice.id, Invoice.paid_amount, allocated.c.sum)
        .outerjoin(allocated, allocated.c.invoice_id == Invoice.id)
        .where(Invoice.kind == "invoice",
               sa.func.coalesce(allocated.c.sum, 0) != Invoice.paid_amount)))


def duplicate_periods() -> list[tuple]:
    return list(db.session.execute(
        sa.select(Invoice.account_id, Invoice.period_start, sa.func.count())
        .where(Invoice.key.like("period:%"))
        .group_by(Invoice.account_id, Invoice.period_start).having(sa.func.count() > 1)))


def account_balances() -> list[tuple]:
    """``(account, currency, balance, due, credit)`` where balance != due - credit."""
    ledger = (sa.select(Transaction.account_id.label("aid"), Transaction.currency.label("cur"),
                        sa.func.sum(Transaction.amount).label("balance"))
              .group_by(Transaction.account_id, Transaction.currency).subquery())
    due = (sa.select(Invoice.account_id.label("aid"),
                     sa.func.sum(Invoice.total_amount - Invoice.paid_amount).label("due"))
           .where(Invoice.kind == "invoice", Invoice.status.in_(OPEN_STATUSES))
           .group_by(Invoice.account_id).subquery())
    allocated = (sa.select(Allocation.payment_id, sa.func.sum(Allocation.amount).label("used"))
                 .where(Allocation.payment_id.is_not(None))
                 .group_by(Allocation.payment_id).subquery())
    pay_credit = (sa.select(Payment.account_id.label("aid"), sa.func.sum(
        Payment.amount - Payment.refunded_amount - sa.func.coalesce(allocated.c.used, 0))
        .label("credit"))
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(Payment.status == "completed").group_by(Payment.account_id).subquery())
    note_credit = (sa.select(Invoice.account_id.label("aid"),
                             sa.func.sum(Invoice.total_amount - Invoice.paid_amount)
                             .label("credit"))
                   .where(Invoice.kind == "credit_note", Invoice.status == "finalized")
                   .group_by(Invoice.account_id).subquery())
    expected = (sa.func.coalesce(due.c.due, 0) - sa.func.coalesce(pay_credit.c.credit, 0)
                - sa.func.coalesce(note_credit.c.credit, 0))
    return list(db.session.execute(
        sa.select(ledger.c.aid, ledger.c.cur, ledger.c.balance, sa.func.coalesce(due.c.due, 0),
                  sa.func.coalesce(pay_credit.c.credit, 0)
                  + sa.func.coalesce(note_credit.c.credit, 0))
        .outerjoin(due, due.c.aid == ledger.c.aid)
        .outerjoin(pay_credit, pay_credit.c.aid == ledger.c.aid)
        .outerjoin(note_credit, note_credit.c.aid == ledger.c.aid)
        .where(ledger.c.balance != expected)))


def ledger_vs_documents() -> list[tuple]:
    """Finalized documents whose ledger rows do not add up to what they should."""
    posted = (sa.select(Transaction.invoice_id, sa.func.sum(Transaction.amount).label("sum"))
              .where(Transaction.invoice_id.is_not(None))
              .group_by(Transaction.invoice_id).subquery())
    expected = sa.case((Invoice.status == "void", 0),
                       (Invoice.kind == "credit_note", -Invoice.total_amount),
                       else_=Invoice.total_amount)
    return list(db.session.execute(
        sa.select(Invoice.id, expected, posted.c.sum)
        .outerjoin(posted, posted.c.invoice_id == Invoice.id)
        .where(Invoice.status != "draft",
               sa.func.coalesce(posted.c.sum, 0) != expected)))


def run_all() -> dict[str, list[tuple]]:
    """Every check; ``{}`` values empty when all is well."""
    return {"invoice_totals": invoice_totals(), "paid_amounts": paid_amounts(),
            "duplicate_periods": duplicate_periods(), "account_balances": account_balances(),
            "ledger_vs_documents": ledger_vs_documents()}


def problems() -> dict[str, list[tuple]]:
    return {name: rows for name, rows in run_all().items() if rows}


__all__ = ["account_balances", "duplicate_periods", "invoice_totals", "ledger_vs_documents",
           "paid_amounts", "problems", "run_all"]
