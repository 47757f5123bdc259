"""Tickets on the account's timeline and in the global search.

Every ticket message (the customer's mail, staff replies, internal notes) is an entry on the
account's timeline behind ``tickets.ticket.view`` — the account page is read by people who
may not see tickets.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from backhaul.sdk import SearchResult, TimelineEntry, db, user_may

from .models import Ticket, TicketMessage

KIND_WORDS = {"inbound": "E-mail from", "reply": "Reply to", "note": "Internal note by"}


def _url(ticket_id: int, anchor: str = "") -> str | None:
    try:
        return url_for("tickets.show", ticket_id=ticket_id) + anchor
    except RuntimeError:  # no request context (a job building a timeline)
        return None


def entries(account, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        sa.select(TicketMessage, Ticket).join(Ticket, TicketMessage.ticket_id == Ticket.id)
        .where(Ticket.account_id == account.id)
        .order_by(TicketMessage.at.desc(), TicketMessage.id.desc()).limit(limit)).all()
    out = []
    for msg, ticket in rows:
        who = msg.from_address or msg.author if msg.kind == "inbound" else \
            (msg.to_address if msg.kind == "reply" else msg.author)
        out.append(TimelineEntry(
            at=msg.at, kind=f"ticket_{msg.kind}",
            title=f"{ticket.token} {ticket.subject} — {KIND_WORDS[msg.kind]} {who}".strip(),
            body=msg.body_text[:300], url=_url(ticket.id, f"#message-{msg.id}"),
            meta={"ticket": ticket.token, "status": ticket.status, "kind": msg.kind,
                  "automatic": msg.automatic},
            permission="tickets.ticket.view"))
    return out


def search_tickets(query: str, user, limit: int) -> list[SearchResult]:
    if not user_may(user, "tickets.ticket.view"):
        return []
    pattern = f"%{query.strip()[:100]}%"
    rows = db.session.scalars(sa.select(Ticket).where(sa.or_(
        Ticket.token.ilike(pattern), Ticket.subject.ilike(pattern),
        Ticket.requester_email.ilike(pattern))).order_by(Ticket.id.desc()).limit(limit))
    return [SearchResult(title=f"{t.token} {t.subject}", url=_url(t.id) or "",
                         kind="ticket", subtitle=f"{t.status} · {t.requester_email}",
                         score=1.0 if query.strip().upper() == t.token else 0.5)
            for t in rows]
