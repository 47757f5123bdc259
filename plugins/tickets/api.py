"""The tickets plugin's public API, for plugins that declare ``depends_on=("tickets",)`` (or
``optional_depends_on`` and check ``plugin_enabled("tickets")``): a field-jobs plugin turning a
ticket into a job, a customer portal listing a tenant's tickets.

Plain functions and frozen dataclasses (no ORM objects); none commits — the caller owns the
transaction. Changed only by adding.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backhaul.sdk import db

from .models import OPEN_STATUSES, Ticket


@dataclass(frozen=True)
class TicketSummary:
    """A ticket as other plugins see it."""

    id: int
    token: str
    subject: str
    #: new, open, pending, solved or closed
    status: str
    #: low, normal, high or urgent
    priority: str
    group: str
    category: str | None
    account_id: int | None
    contact_id: int | None
    requester_email: str
    last_activity_at: datetime


def _summary(t: Ticket) -> TicketSummary:
    return TicketSummary(id=t.id, token=t.token, subject=t.subject, status=t.status,
                         priority=t.priority, group=t.group.name,
                         category=t.category.name if t.category else None,
                         account_id=t.account_id, contact_id=t.contact_id,
                         requester_email=t.requester_email,
                         last_activity_at=t.last_activity_at)


def get_ticket(ticket_id: int) -> TicketSummary | None:
    """One ticket, or ``None`` when there is none with this id."""
    ticket = db.session.get(Ticket, ticket_id)
    return _summary(ticket) if ticket is not None else None


def tickets_for_account(account_id: int, *, open_only: bool = False,
                        limit: int = 50) -> list[TicketSummary]:
    """An account's tickets, most recently active first (at most ``limit``, up to 500);
    ``open_only``: only those waiting for staff (new, open)."""
    stmt = sa.select(Ticket).where(Ticket.account_id == account_id)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    stmt = stmt.order_by(Ticket.last_activity_at.desc()).limit(max(1, min(limit, 500)))
    return [_summary(t) for t in db.session.scalars(stmt)]


def add_note(ticket_id: int, text: str, author: str) -> None:
    """Add an internal note (never e-mailed), e.g. "Visit booked for Tuesday 9:00" from a
    field-jobs plugin. Raises ``LookupError`` for an unknown ticket and
    ``marshmallow.ValidationError`` (field ``body``) for an empty or oversized text."""
    from . import desk

    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"there is no ticket {ticket_id}")
    desk.add_note(ticket, text).author = author[:300]


def ticket_counts_by_account() -> dict[int, tuple[int, int]]:
    """``{account_id: (waiting for staff, total)}`` for every account with tickets, in one
    query (a map of which buildings produce the most tickets)."""
    rows = db.session.execute(sa.select(
        Ticket.account_id, sa.func.count(Ticket.id),
        sa.func.sum(sa.case((Ticket.status.in_(OPEN_STATUSES), 1), else_=0)))
        .where(Ticket.account_id.is_not(None)).group_by(Ticket.account_id))
    return {account_id: (int(waiting or 0), int(total)) for account_id, total, waiting in rows}


__all__ = ["TicketSummary", "add_note", "get_ticket", "ticket_counts_by_account",
           "tickets_for_account"]
