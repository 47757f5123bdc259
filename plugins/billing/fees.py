"""Fees: the late fee (once per invoice), the reconnection fee (on restore).

(The printed-invoice fee is a line on the invoice itself: see ``compose.py``.)

A fee is a small finalized invoice of its own, with an idempotency key in
``billing_invoice.key`` — ``late_fee:<invoice id>``, ``reconnect:<account>:<since>`` — so
charging it twice is impossible even when the job runs twice or two workers race (the
unique key makes the second insert fail; it is then looked up instead). Being an invoice, an
unpaid fee counts towards delinquency like any other invoice; a late fee is never charged on
a late fee.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import Money, db

from . import invoices
from . import settings as billing_settings
from .models import OPEN_STATUSES, Invoice
from .rating import percent_of


def fee_invoice(account_id: int, description: str, amount: Money, key: str,
                issue_date: date | None = None) -> Invoice | None:
    """A finalized one-line fee invoice, once per ``key`` (``None`` for a zero fee)."""
    if amount.amount <= 0:
        return None
    existing = db.session.scalar(sa.select(Invoice).where(Invoice.key == key))
    if existing is not None:
        return existing
    with db.session.begin_nested():
        draft = invoices.create_draft(account_id, key=key, memo=description)
        invoices.add_line(draft, description, amount, kind="fee")
        return invoices.finalize(draft, issue_date)


def late_fee_amount(invoice: Invoice, defaults: billing_settings.Defaults) -> Money:
    due = invoice.amount_due
    if defaults.late_fee_mode == "percent":
        return percent_of(due, defaults.late_fee)
    return Money.parse(defaults.late_fee, invoice.currency)


def charge_late_fees(day: date | None = None) -> int:
    """Charge the late fee on every open invoice past ``due + late_fee_after_days`` that has
    none yet. Returns how many were charged."""
    defaults = billing_settings.load()
    if defaults.late_fee <= 0:
        return 0
    day = day or date.today()
    fee = sa.orm.aliased(Invoice)
    cutoff = day - timedelta(days=defaults.late_fee_after_days)
    rows = db.session.scalars(
        sa.select(Invoice).where(
            Invoice.kind == "invoice", Invoice.status.in_(OPEN_STATUSES),
            Invoice.due_date < cutoff,
            sa.or_(Invoice.key.is_(None), sa.not_(Invoice.key.like("late_fee:%"))),
            ~sa.exists().where(fee.key == sa.literal("late_fee:") + sa.cast(Invoice.id,
                                                                              sa.String)))
        .order_by(Invoice.id)).all()
    charged = 0
    for invoice in rows:
        amount = late_fee_amount(invoice, defaults)
        if fee_invoice(invoice.account_id, f"Late fee for {invoice.display_number}", amount,
                       f"late_fee:{invoice.id}", day):
            charged += 1
    db.session.commit()
    return charged


def reconnection_fee(account_id: int, since, defaults: billing_settings.Defaults | None = None
                     ) -> Invoice | None:
    """Called by the delinquency machine when an account is restored."""
    defaults = defaults or billing_settings.load()
    return fee_invoice(account_id, "Reconnection fee", defaults.reconnection_fee,
                       f"reconnect:{account_id}:{since.isoformat()}")


def late_fee_job() -> None:
    charge_late_fees()


__all__ = ["charge_late_fees", "fee_invoice", "late_fee_amount", "late_fee_job",
           "reconnection_fee"]
