"""Canned replies: staff-written reply templates with variables (account, contact, ticket,
staff member), checked when saved and rendered in the notifications plugin's bounded
sandbox (unknown variables are errors; loops, time and output are bounded).

Rendering gives a *preview*: the text lands in the reply box, where staff read and edit it
before anything is sent.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.notifications.api import (
    TemplateInvalid,
    Variable,
    check_template,
    render_template,
)
from backhaul.sdk import db
from backhaul.sdk.accounts import Contact, get_account

from . import desk
from .models import CannedReply, Group, Ticket

VARIABLES = (
    Variable("ticket.token", "The ticket's reference", "TK-ABC234"),
    Variable("ticket.subject", "Its subject", "No connection since Monday"),
    Variable("ticket.status", "Its status", "open"),
    Variable("ticket.priority", "Its priority", "normal"),
    Variable("ticket.group", "Its group", "Support"),
    Variable("ticket.category", "Its category", "Outage"),
    Variable("account.number", "Account number", "A000042"),
    Variable("account.name", "Account name", "Flat 4, Maple Court"),
    Variable("account.address", "The account's service address", "12 Maple Court, Unit 4"),
    Variable("contact.name", "The requester's name", "Tina Tenant"),
    Variable("contact.email", "The requester's e-mail", "tina@example.net"),
    Variable("staff.name", "Who is answering", "Sam Support"),
)
MAX_TEMPLATE = 20_000


def context_for(ticket: Ticket) -> dict:
    """The variables' values for one ticket (empty strings where the ticket has no account
    or contact, so one canned reply serves every ticket)."""
    account = get_account(ticket.account_id) if ticket.account_id else None
    contact = db.session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    return {
        "ticket": {"token": ticket.token, "subject": ticket.subject, "status": ticket.status,
                   "priority": ticket.priority, "group": ticket.group.name,
                   "category": ticket.category.name if ticket.category else ""},
        "account": {"number": account.number if account else "",
                    "name": account.name if account else "",
                    "address": account.address.one_line
                    if account is not None and account.address is not None else ""},
        "contact": {"name": contact.name if contact else ticket.requester_name,
                    "email": (contact.email or "") if contact else ticket.requester_email},
        "staff": {"name": desk.staff_name(desk.actor_user_id())},
    }


def check(body: str) -> None:
    """Refuse a template that does not parse, reads unknown variables or breaks a bound."""
    if not (body or "").strip() or len(body) > MAX_TEMPLATE or "\x00" in body:
        raise ValidationError({"body": [f"write 1-{MAX_TEMPLATE:,} characters"]})
    try:
        check_template(body, VARIABLES, "body")
    except TemplateInvalid as exc:
        raise ValidationError({"body": [str(exc)]}) from None


def render(canned: CannedReply | str, ticket: Ticket) -> str:
    """The canned reply for this ticket; raises ``ValidationError`` on ``body``."""
    source = canned.body_text if isinstance(canned, CannedReply) else canned
    try:
        return render_template(source, context_for(ticket), "body")
    except TemplateInvalid as exc:
        raise ValidationError({"body": [str(exc)]}) from None


def save(data: dict, canned: CannedReply | None = None) -> CannedReply:
    """Create or change a canned reply: ``name``, ``body`` and optional ``groupId``."""
    name = " ".join(str(data.get("name") or "").split())
    if not name or len(name) > 100 or "\x00" in name:
        raise ValidationError({"name": ["1-100 characters (no NUL)"]})
    clash = db.session.scalar(sa.select(CannedReply.id).where(CannedReply.name == name))
    if clash is not None and (canned is None or clash != canned.id):
        raise ValidationError({"name": [f"a canned reply named '{name}' exists"]})
    body = (data.get("body") or "").replace("\r\n", "\n")
    check(body)
    group_id = None
    if data.get("groupId"):
        try:
            group = db.session.get(Group, int(data["groupId"]))
        except (TypeError, ValueError):
            group = None
        if group is None:
            raise ValidationError({"groupId": [f"there is no group {data['groupId']}"]})
        group_id = group.id
    canned = canned or CannedReply()
    canned.name, canned.body_text, canned.group_id = name, body, group_id
    db.session.add(canned)
    db.session.flush()
    return canned


def offered(ticket: Ticket) -> list[CannedReply]:
    return list(db.session.scalars(sa.select(CannedReply).where(
        sa.or_(CannedReply.group_id.is_(None), CannedReply.group_id == ticket.group_id))
        .order_by(CannedReply.name)))
