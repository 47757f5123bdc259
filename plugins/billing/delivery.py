"""Invoice delivery: the "invoice issued" message with the PDF attached, sent from a job.

Rendering a PDF and queueing mail per invoice is too slow for the billing run's transaction,
so the run (and a manual finalize) enqueues one job per chunk of invoices; the job notifies
through the notifications plugin (``dedupe_key`` per invoice, so a job that runs twice sends
once). Without the notifications plugin nothing is enqueued. Accounts with printed delivery
get no mail (the invoice is printed and posted; they pay the printed-invoice fee).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from backhaul.plugins.notifications.api import EXTENSION_KEY, notify
from backhaul.sdk import db, enqueue

from . import settings as billing_settings
from .bulk import in_ids
from .models import BillingAccount, Invoice


def notifications_enabled() -> bool:
    return current_app.extensions.get(EXTENSION_KEY) is not None


def schedule_delivery(invoice_ids: list[int], key: str) -> None:
    if invoice_ids and notifications_enabled():
        enqueue(deliver_invoices, list(invoice_ids), key=key, queue="billing")


def invoice_context(invoice: Invoice) -> dict:
    return {"invoice": {"number": invoice.display_number, "total": invoice.total,
                        "amount_due": invoice.amount_due, "issue_date": invoice.issue_date,
                        "due_date": invoice.due_date, "id": invoice.id}}


def deliver_invoices(invoice_ids: list[int]) -> int:
    """The job: one "invoice issued" message per e-mailed invoice."""
    from .pdf import render_invoice

    default_delivery = billing_settings.load().delivery
    sent = 0
    rows = db.session.execute(
        sa.select(Invoice, BillingAccount.delivery)
        .join(BillingAccount, BillingAccount.account_id == Invoice.account_id)
        .where(in_ids(Invoice.id, invoice_ids)).order_by(Invoice.id)).all()
    for invoice, delivery in rows:
        if (delivery or default_delivery) != "email" or invoice.status == "void":
            continue
        pdf = render_invoice(invoice)
        notify("billing.invoice_issued", invoice.account_id, invoice_context(invoice),
               attachments=[(f"{invoice.display_number}.pdf", pdf, "application/pdf")],
               dedupe_key=f"invoice:{invoice.id}")
        sent += 1
    return sent


__all__ = ["deliver_invoices", "invoice_context", "notifications_enabled", "schedule_delivery"]
