"""Invoices and credit notes: draft -> finalized -> partially paid / paid, or void.

* A **draft** has no number and can be edited or deleted.
* **Finalizing** numbers it (gap-free per series, :mod:`.numbering`), fixes its totals, posts
  it to the ledger, applies any credit the account has, and emits ``invoice_finalized``.
  From then on it is never edited: it is voided (only while nothing is paid on it) or
  credited with a credit note.
* A **credit note** is a document of its own (series ``CN``) against a finalized invoice; it
  credits the ledger and pays what is still due on that invoice, any rest stays as credit.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from backhaul.sdk import Money, db, emit, utcnow

from . import accounts as billing_accounts
from . import followups, ledger, numbering
from . import settings as billing_settings
from .catalogue import money
from .compose import AccountTerms, InvoiceDraft, LineBuilder
from .cycles import Period
from .errors import invalid
from .models import Invoice, InvoiceLine, TaxClass
from .rating import extend, scale


def line_rows(draft: InvoiceDraft) -> list[InvoiceLine]:
    return [InvoiceLine(position=i, kind=line.kind, description=line.description[:300],
                        quantity=line.quantity, unit_price_amount=line.unit_price.amount,
                        amount=line.amount.amount, tax_class=line.tax_class,
                        tax_rate=line.tax_rate, tax_amount=line.tax.amount,
                        period_start=line.period.start if line.period else None,
                        period_end=line.period.end if line.period else None,
                        subscription_id=line.subscription_id, charge_id=line.charge_id,
                        adjustment_id=line.adjustment_id, source=line.source)
            for i, line in enumerate(draft.lines)]


def create_draft(account_id: int, *, period: Period | None = None, memo: str = "",
                 key: str | None = None) -> Invoice:
    """An empty draft invoice in the account's currency (add lines, then finalize)."""
    row = billing_accounts.ensure(account_id)
    invoice = Invoice(account_id=account_id, currency=row.currency, status="draft",
                      series=billing_settings.load().invoice_series, memo=memo, key=key,
                      period_start=period and period.start, period_end=period and period.end)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def add_line(invoice: Invoice, description: str, unit_price: Money | str, *,
             quantity: Decimal | int | str = 1, tax_class: str | None = None,
             kind: str = "charge") -> InvoiceLine:
    """Add a line to a draft (a finalized invoice is never edited)."""
    if invoice.status != "draft":
        raise invalid("invoice", f"{invoice.display_number} is {invoice.status}: a finalized "
                                 "invoice is never edited; issue a credit note or a new invoice")
    qty = Decimal(str(quantity))
    if isinstance(quantity, bool) or not qty.is_finite() or qty <= 0:
        raise invalid("quantity", "must be greater than zero")
    price = money(unit_price, invoice.currency, "unit_price")
    row = billing_accounts.get(invoice.account_id)
    rates = dict(db.session.execute(sa.select(TaxClass.key, TaxClass.rate)).all())
    draft = InvoiceDraft(invoice.currency, Period(date.min, date.min))
    build = LineBuilder(draft, AccountTerms(invoice.currency, bool(row and row.tax_exempt)), rates)
    try:
        build.add(kind, description, qty, price, extend(price, qty), tax_class)
    except ValueError as exc:
        raise invalid("tax_class", str(exc)) from None
    line = line_rows(draft)[0]
    line.position = len(invoice.lines)
    invoice.lines.append(line)
    db.session.flush()
    return line


def _totals(invoice: Invoice) -> None:
    invoice.subtotal_amount = sum(line.amount for line in invoice.lines)
    invoice.tax_amount = sum(line.tax_amount for line in invoice.lines)
    invoice.total_amount = invoice.subtotal_amount + invoice.tax_amount


def finalize(invoice: Invoice, issue_date: date | None = None) -> Invoice:
    """Number, post and lock a draft; apply available credit; ``invoice_finalized`` event."""
    if invoice.status != "draft":
        raise invalid("invoice", f"{invoice.display_number} is already {invoice.status}")
    if not invoice.lines:
        raise invalid("invoice", "an invoice needs at least one line: add one or delete the "
                                 "draft")
    _totals(invoice)
    if invoice.total_amount < 0:
        raise invalid("invoice", "the total is negative: issue a credit note instead")
    row = billing_accounts.ensure(invoice.account_id)
    defaults = billing_settings.load()
    settings = billing_settings.effective(row, defaults)
    invoice.issue_date = issue_date or date.today()
    invoice.due_date = invoice.issue_date + timedelta(days=settings.due_days)
    invoice.number = numbering.take(invoice.series)
    invoice.status = ledger.status_for(invoice.total_amount, 0)
    invoice.finalized_at = utcnow()
    db.session.flush()
    ledger.post(invoice.account_id, "invoice", invoice.total, invoice_id=invoice.id,
                memo=f"Invoice {invoice.display_number}")
    ledger.apply_credit(invoice.account_id, defaults.allocation_order)
    emit("invoice_finalized", invoice_id=invoice.id, account_id=invoice.account_id)
    followups.invoices_issued([invoice.id], key=f"invoice:{invoice.id}")
    return invoice


def delete_draft(invoice: Invoice) -> None:
    if invoice.status != "draft":
        raise invalid("invoice", f"{invoice.display_number} is {invoice.status}; only drafts "
                                 "can be deleted (void it instead)")
    db.session.delete(invoice)
    db.session.flush()


def void(invoice: Invoice, reason: str) -> Invoice:
    """Cancel a finalized invoice nothing has been paid on; the ledger is credited back."""
    if not reason.strip():
        raise invalid("reason", "say why the invoice is voided (it stays on record)")
    if invoice.kind != "invoice":
        raise invalid("invoice", "a credit note cannot be voided")
    if invoice.status == "draft":
        raise invalid("invoice", "a draft is deleted, not voided")
    if invoice.status == "void":
        raise invalid("invoice", f"{invoice.display_number} is already void")
    if invoice.paid_amount:
        raise invalid("invoice", f"{invoice.display_number} has {invoice.money(invoice.paid_amount)}"
                                 " paid on it and cannot be voided: issue a credit note, or "
                                 "reverse the payment first")
    invoice.status = "void"
    invoice.voided_at = utcnow()
    invoice.void_reason = reason
    ledger.post(invoice.account_id, "void", -invoice.total, invoice_id=invoice.id,
                memo=f"Void {invoice.display_number}: {reason}")
    db.session.flush()
    followups.balance_changed(invoice.account_id)
    return invoice


def credited_so_far(invoice: Invoice) -> int:
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Invoice.total_amount),
                                                            0))
                                 .where(Invoice.credited_invoice_id == invoice.id,
                                        Invoice.status != "void")))


def credit_note(invoice: Invoice, reason: str, amount: Money | str | None = None) -> Invoice:
    """Credit ``amount`` (gross, default: what has not been credited yet) of ``invoice``."""
    if invoice.kind != "invoice" or invoice.status in ("draft", "void"):
        raise invalid("invoice", f"{invoice.display_number} is {invoice.status}: only a "
                                 "finalized invoice can be credited")
    if not reason.strip():
        raise invalid("reason", "say why the invoice is credited")
    left = invoice.total_amount - credited_so_far(invoice)
    gross = left if amount is None else money(amount, invoice.currency, "amount").amount
    if not 0 < gross <= left:
        raise invalid("amount", f"must be more than zero and at most "
                                f"{invoice.money(left)} (what is not credited yet)")
    tax = scale(invoice.money(invoice.tax_amount), gross, invoice.total_amount).amount if (
        invoice.total_amount) else 0
    note = Invoice(account_id=invoice.account_id, kind="credit_note", currency=invoice.currency,
                   series=billing_settings.load().credit_note_series, credited_invoice_id=
                   invoice.id, status="finalized", issue_date=date.today(),
                   memo=reason[:500], subtotal_amount=gross - tax, tax_amount=tax,
                   total_amount=gross, finalized_at=utcnow())
    note.lines.append(InvoiceLine(position=0, kind="credit", description=
                                  f"Credit for {invoice.display_number}: {reason}"[:300],
                                  quantity=Decimal(1), unit_price_amount=gross - tax,
                                  amount=gross - tax, tax_amount=tax,
                                  tax_rate=Decimal(0)))
    note.number = numbering.take(note.series)
    db.session.add(note)
    db.session.flush()
    ledger.post(invoice.account_id, "credit_note", -note.total, invoice_id=note.id,
                memo=f"Credit note {note.display_number} for {invoice.display_number}")
    ledger.apply_credit(invoice.account_id, first=invoice.id)
    db.session.flush()
    followups.balance_changed(invoice.account_id)
    return note


__all__ = ["add_line", "create_draft", "credit_note", "credited_so_far", "delete_draft",
           "finalize", "line_rows", "void"]
