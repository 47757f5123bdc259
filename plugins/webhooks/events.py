"""The domain events integrators can subscribe to, and the payload each one carries.

Payloads are thin on purpose: ids, states and amounts — what happened, not a copy of the
record. An integrator reads the rest through GraphQL with its own token, so a webhook never
shows more than that token may see (``invoice.finalized`` says which invoice; the lines come
from ``billingInvoice(id:)``, behind ``billing.invoice.view``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    key: str
    description: str
    #: an example of ``data`` (the payload's ``data`` member), for the docs and the page
    example: dict


EVENTS: tuple[DomainEvent, ...] = (
    DomainEvent("account.created", "An account was created.", {}),
    DomainEvent("account.status_changed", "An account's status changed (suspension, "
                "restoration, move-out...).",
                {"old_status": "active", "new_status": "suspended", "reason": "delinquency"}),
    DomainEvent("service.changed", "A subscription was added, changed or ended.",
                {"subscription_id": 42, "change": "added"}),
    DomainEvent("invoice.finalized", "An invoice was finalized (it will never change).",
                {"invoice_id": 7}),
    DomainEvent("payment.received", "A payment was recorded in the ledger.",
                {"payment_id": 9, "amount": {"amount": 4999, "currency": "USD",
                                             "formatted": "49.99 USD"}}),
    DomainEvent("ticket.opened", "A support ticket was opened (by staff or by an e-mail).",
                {"ticket_id": 5, "status": "new"}),
    DomainEvent("ticket.status_changed", "A ticket's status changed (pending, closed...).",
                {"ticket_id": 5, "status": "closed"}),
    DomainEvent("device.state_changed", "A monitored device or item went up, down, "
                "warning or flapping.",
                {"target": "device:3", "name": "core-sw-1", "old_state": "up",
                 "new_state": "down", "reason": "100% loss",
                 "at": "2026-12-07T06:00:00+00:00"}),
)
BY_KEY = {e.key: e for e in EVENTS}


def money(value) -> dict:
    return {"amount": value.amount, "currency": value.currency, "formatted": str(value)}
