"""What billing tells customers about, declared to the notifications plugin.

Suspension and restoration are announced by the notifications plugin itself from the
``account_status_changed`` event that delinquency causes; billing declares the rest.
"""
from __future__ import annotations

from datetime import date

from backhaul.plugins.notifications.api import EventType, Variable
from backhaul.sdk import Money

_INVOICE = (
    Variable("invoice.number", "Invoice number", "INV-000042"),
    Variable("invoice.total", "Invoice total", Money(4999, "USD")),
    Variable("invoice.amount_due", "Amount still due", Money(4999, "USD")),
    Variable("invoice.issue_date", "Issue date", date(2026, 3, 1)),
    Variable("invoice.due_date", "Due date", date(2026, 3, 15)),
)


INVOICE_EMAIL = (
    "Invoice {{ invoice.number }} from {{ company.name }}",
    "Hello {{ contact.name }},\n\n"
    "invoice {{ invoice.number }} for account {{ account.number }} ({{ account.name }}) is "
    "attached.\n\nTotal: {{ invoice.total }}\nAmount due: {{ invoice.amount_due }}\n"
    "Due date: {{ invoice.due_date }}\n\nPlease quote {{ invoice.number }} with your "
    "payment.\n\nThank you,\n{{ company.name }}\n",
    None,
)


def event_types() -> list[EventType]:
    return [
        EventType("billing.invoice_issued", "Invoice issued", category="billing",
                  variables=_INVOICE, description="A new invoice (PDF attached).",
                  defaults={"email": INVOICE_EMAIL}),
        EventType("billing.payment_received", "Payment received", category="billing",
                  variables=(Variable("payment.amount", "Amount received", Money(4999, "USD")),
                             Variable("payment.method", "How it was paid", "card")),
                  description="A payment was recorded on the account."),
        EventType("billing.payment_failed", "Automatic payment failed", category="billing",
                  variables=(*_INVOICE[:3],
                             Variable("attempt", "Attempt number", 1),
                             Variable("message", "The processor's reason", "Card declined"),
                             Variable("retry_on", "When we try again (empty: no more tries)",
                                      date(2026, 3, 18))),
                  description="An auto-pay attempt was declined; the next try is scheduled."),
    ]


__all__ = ["event_types"]
