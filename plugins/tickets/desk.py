"""Tickets as staff work them: open, change, reply (e-mailed), note (internal).

Plain functions over the session; none commits (the caller owns the transaction). Invalid
input raises ``marshmallow.ValidationError`` whose messages name the fields the way forms and
GraphQL inputs do (``subject``, ``groupId``...). A public reply is queued through the
notifications plugin's e-mail channel, from the address the ticket came in on, in the same
transaction: if the reply is rolled back, nothing is sent.
"""
from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.notifications.api import send_email
from backhaul.sdk import current_actor, current_plugin_settings, db, emit, utcnow
from backhaul.sdk.accounts import Account, Contact, get_account

from .models import (
    PRIORITIES,
    STATUSES,
    Category,
    Group,
    InboundAddress,
    Ticket,
    TicketMessage,
)

#: the staff directory (read-only): who a ticket may be assigned to
STAFF = sa.table("auth_user", sa.column("id", sa.Integer), sa.column("name", sa.String),
                 sa.column("email", sa.String), sa.column("is_active", sa.Boolean))
MAX_BODY = 100_000
TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    """``TK-`` and six characters nobody confuses on the phone (no 0/O, 1/I)."""
    while True:
        token = "TK-" + "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(6))
        if db.session.scalar(sa.select(Ticket.id).where(Ticket.token == token)) is None:
            return token


def tagged_subject(ticket: Ticket, subject: str | None = None) -> str:
    base = " ".join((subject or ticket.subject).split())
    tag = f"[#{ticket.token}]"
    return base if tag in base else f"{base} {tag}"


def staff_choices() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.execute(
        sa.select(STAFF.c.id, STAFF.c.name).where(STAFF.c.is_active).order_by(STAFF.c.name))]


def staff_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return db.session.scalar(sa.select(STAFF.c.name).where(STAFF.c.id == user_id)) or "?"


def author() -> str:
    """How a reply or note is signed on the ticket: the staff member's name (the audit trail
    keeps the exact actor)."""
    return staff_name(actor_user_id()) or str(current_actor())


def actor_user_id() -> int | None:
    """The staff member acting: signed in, or the owner of the API token in use."""
    actor = current_actor()
    if actor.kind == "user" and str(actor.id or "").isdigit():
        return int(actor.id)
    if actor.kind == "token" and " of " in actor.label:  # "token <prefix> of <email>"
        email = actor.label.rpartition(" of ")[2]
        return db.session.scalar(sa.select(STAFF.c.id).where(STAFF.c.email == email))
    return None


# ------------------------------------------------------------------ checking input
def _text(value, field: str, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if "\x00" in text or len(text) > limit or (required and not text):
        raise ValidationError({field: [f"1-{limit} characters" if required
                                       else f"at most {limit} characters"]})
    return text


def _choice(value, field: str, allowed) -> str:
    if value not in allowed:
        raise ValidationError({field: [f"one of {', '.join(allowed)}"]})
    return value


def _row(model, value, field: str):
    try:
        row = db.session.get(model, int(value))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise ValidationError({field: [f"there is no {model.__tablename__[8:]} {value}"]})
    return row


def _assignee(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        user_id = int(value)
    except (TypeError, ValueError):
        user_id = -1
    if db.session.scalar(sa.select(STAFF.c.id).where(STAFF.c.id == user_id,
                                                     STAFF.c.is_active)) is None:
        raise ValidationError({"assigneeId": [f"there is no active staff member {value}"]})
    return user_id


def _account_and_contact(account_id, contact_id) -> tuple[Account | None, Contact | None]:
    account = None
    if account_id not in (None, ""):
        try:
            account = get_account(int(account_id))
        except (TypeError, ValueError):
            account = None
        if account is None:
            raise ValidationError({"accountId": [f"there is no account {account_id}"]})
    contact = None
    if contact_id not in (None, ""):
        contact = _row(Contact, contact_id, "contactId")
        if account is not None and contact.account_id != account.id:
            raise ValidationError({"contactId": ["this contact is not on the account"]})
        account = account or contact.account
    return account, contact


# ------------------------------------------------------------------ changes
def open_ticket(data: dict) -> Ticket:
    """Open a ticket by hand (a phone call, a walk-in): ``subject``, ``groupId`` and
    optionally ``categoryId``, ``priority``, ``assigneeId``, ``accountId``, ``contactId``,
    ``body`` (the first internal note: what was said)."""
    subject = _text(data.get("subject"), "subject", 300)
    group = _row(Group, data.get("groupId"), "groupId")
    category = _row(Category, data["categoryId"], "categoryId") \
        if data.get("categoryId") else None
    priority = _choice(data.get("priority") or "normal", "priority", PRIORITIES)
    account, contact = _account_and_contact(data.get("accountId"), data.get("contactId"))
    if contact is None and account is not None:
        contact = next((c for c in account.contacts if c.is_primary), None)
    ticket = Ticket(token=new_token(), subject=subject, status="open", priority=priority,
                    group_id=group.id, category_id=category.id if category else None,
                    assignee_id=_assignee(data.get("assigneeId")),
                    account_id=account.id if account else None,
                    contact_id=contact.id if contact else None,
                    requester_email=(contact.email or "") if contact else "",
                    requester_name=contact.name if contact else "", source="staff",
                    last_activity_at=utcnow())
    db.session.add(ticket)
    db.session.flush()
    announce(ticket, "opened")
    if (data.get("body") or "").strip():
        add_note(ticket, data["body"])
    return ticket


def update_ticket(ticket: Ticket, data: dict) -> Ticket:
    """Change any of ``status``, ``priority``, ``groupId``, ``categoryId``, ``assigneeId``,
    ``accountId``/``contactId``, ``subject`` (keys absent are left alone; an empty
    ``categoryId``/``assigneeId``/``accountId`` clears it)."""
    if "subject" in data and data["subject"] is not None:
        ticket.subject = _text(data["subject"], "subject", 300)
    if data.get("status"):
        set_status(ticket, _choice(data["status"], "status", STATUSES))
    if data.get("priority"):
        ticket.priority = _choice(data["priority"], "priority", PRIORITIES)
    if data.get("groupId"):
        ticket.group_id = _row(Group, data["groupId"], "groupId").id
    if "categoryId" in data:
        ticket.category_id = _row(Category, data["categoryId"], "categoryId").id \
            if data["categoryId"] else None
    if "assigneeId" in data:
        ticket.assignee_id = _assignee(data["assigneeId"])
    if "accountId" in data or "contactId" in data:
        account, contact = _account_and_contact(data.get("accountId"), data.get("contactId"))
        ticket.account_id = account.id if account else None
        ticket.contact_id = contact.id if contact else None
        if contact is not None and contact.email and not ticket.requester_email:
            ticket.requester_email, ticket.requester_name = contact.email, contact.name
    ticket.last_activity_at = utcnow()
    return ticket


def announce(ticket: Ticket, change: str) -> None:
    """``tickets_ticket_changed`` after the transaction commits (webhooks, other plugins)."""
    emit("tickets_ticket_changed", ticket_id=ticket.id, account_id=ticket.account_id,
         change=change, status=ticket.status)


def set_status(ticket: Ticket, status: str) -> None:
    changed = ticket.status != status
    ticket.status = status
    if changed and ticket.id is not None:
        announce(ticket, "status_changed")
    ticket.closed_at = utcnow() if status == "closed" else None


def add_note(ticket: Ticket, body: str) -> TicketMessage:
    """An internal note: never e-mailed, never shown to the customer."""
    note = TicketMessage(ticket=ticket, kind="note", author=author(),
                         body_text=_body(body), at=utcnow())
    db.session.add(note)
    ticket.last_activity_at = note.at
    return note


def _body(body: str) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if not text or "\x00" in text or len(text) > MAX_BODY:
        raise ValidationError({"body": [f"write 1-{MAX_BODY:,} characters"]})
    return text


def sending_address(ticket: Ticket) -> InboundAddress | None:
    """The address the ticket came in on; else its group's first; else the first."""
    if ticket.inbound_address is not None:
        return ticket.inbound_address
    return db.session.scalar(sa.select(InboundAddress).order_by(
        (InboundAddress.group_id == ticket.group_id).desc(), InboundAddress.id).limit(1))


def thread_headers(ticket: Ticket) -> dict[str, str]:
    """``In-Reply-To`` (the customer's latest mail) and ``References`` (the thread, bounded)."""
    ids = [m.message_id for m in ticket.messages if m.message_id and m.kind != "note"]
    inbound = [m.message_id for m in ticket.messages if m.message_id and m.kind == "inbound"]
    headers = {"X-Backhaul-Ticket": ticket.token}
    if inbound:
        headers["In-Reply-To"] = inbound[-1]
    if ids:
        headers["References"] = " ".join(ids[:1] + ids[-9:] if len(ids) > 10 else ids)
    return headers


def reply(ticket: Ticket, body: str, status: str | None = "pending") -> TicketMessage:
    """A public reply: stored on the ticket and e-mailed to the requester through the
    notifications plugin, from the address the ticket came in on, threaded to the
    customer's mail. ``message.notification_id`` is ``None`` when nothing could be queued
    (no address to answer, or no e-mail channel): the reply is kept and staff are told."""
    text = _body(body)
    if status:
        _choice(status, "status", STATUSES)
    to = ticket.requester_email
    if not to and ticket.contact_id:
        to = (db.session.get(Contact, ticket.contact_id).email or "")
    origin = sending_address(ticket)
    from_address = origin.address if origin else ""
    domain = (from_address or "backhaul.invalid").rpartition("@")[2]
    message_id = f"<{uuid.uuid4().hex}.{ticket.token.lower()}@{domain}>"
    subject = _reply_subject(ticket)
    msg = TicketMessage(ticket=ticket, kind="reply", author=author(),
                        from_address=from_address, to_address=to, subject=subject,
                        body_text=text, message_id=message_id, at=utcnow())
    db.session.add(msg)
    db.session.flush()
    if to:
        headers = {**thread_headers(ticket), "Message-ID": message_id}
        if from_address:
            headers["Reply-To"] = from_address
        msg.notification_id = send_email(
            to, subject, text, account_id=ticket.account_id, contact_id=ticket.contact_id,
            from_address=from_address or None, from_name=origin.name if origin else "",
            headers=headers, source="tickets.reply", dedupe_key=f"reply:{msg.id}")
    if status:
        set_status(ticket, status)
    ticket.last_activity_at = msg.at
    return msg


def _reply_subject(ticket: Ticket) -> str:
    subject = ticket.subject
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return tagged_subject(ticket, subject)[:300]


def acknowledge(ticket: Ticket, inbound: TicketMessage) -> int | None:
    """The automatic "we have your message" answer to a new ticket (never to an
    auto-reply, a bounce or a loop: the caller decides)."""
    settings = current_plugin_settings("tickets")
    mode = settings.get("acknowledge", "contacts")
    if mode == "none" or not ticket.requester_email or (
            mode == "contacts" and ticket.contact_id is None):
        return None
    origin = sending_address(ticket)
    from_address = origin.address if origin else None
    text = (f"Hello {ticket.requester_name or ''},\n\nwe have received your message and "
            f"opened ticket {ticket.token}. We will answer as soon as we can; reply to this "
            f"e-mail to add to it.\n\n{settings.get('signature', '')}").replace("Hello ,",
                                                                                "Hello,")
    headers = {"X-Backhaul-Ticket": ticket.token, "Auto-Submitted": "auto-replied",
               "X-Auto-Response-Suppress": "All", "Precedence": "auto_reply"}
    if inbound.message_id:
        headers["In-Reply-To"] = inbound.message_id
        headers["References"] = inbound.message_id
    if from_address:
        headers["Reply-To"] = from_address
    return send_email(ticket.requester_email, _reply_subject(ticket), text,
                      account_id=ticket.account_id, contact_id=ticket.contact_id,
                      from_address=from_address, from_name=origin.name if origin else "",
                      headers=headers, source="tickets.acknowledge",
                      dedupe_key=f"ack:{ticket.id}")
