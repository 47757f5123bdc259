"""Inbound mail: one accepted message becomes a ticket, a message on a ticket, or a row
that says why it is neither — never nothing.

:func:`ingest` is plain Python over the session (the SMTP listener in :mod:`.listener`
calls it; so can an IMAP fetcher or a test). The rules, in order:

1. **Bounded**: the listener refuses mail over ``max_message_bytes`` at the SMTP level
   (552; mail handed in another way is kept cut to that size as ``failed``); here bodies are cut at :data:`MAX_BODY` characters and attachments over
   ``max_attachment_bytes`` (or past the 20th) are listed but not kept — the raw message is
   kept whole in :class:`~.models.InboundMail`, so nothing is lost.
2. **Malformed** mail that the parser cannot read is kept raw with outcome ``failed``.
3. **Duplicates** (a Message-ID already on a ticket: the sender retried) are not added twice.
4. **Threading**: ``In-Reply-To``/``References`` matching a message of a ticket (ours or the
   customer's), else the ticket token ``[#TK-XXXXXX]`` in the subject.
5. **Bounces** (null sender, mailer-daemon, ``multipart/report``) never open a ticket and are
   never answered: they become an internal note on the ticket they bounced from, if known.
6. **Automatic mail** (``Auto-Submitted``, ``Precedence: bulk/junk/list/auto_reply``,
   ``X-Autoreply``/``X-Autorespond``, our own addresses, more than ``loop_limit`` messages an
   hour from one sender) opens or threads like any mail but is never answered.
7. A reply to a **solved or closed** ticket reopens it.
8. A new mail from an **unknown sender** opens a ticket without an account, or is held for
   staff when ``unknown_sender = "hold"`` (released from the inbound mail page).
9. The **sender** is matched to a contact and its account by e-mail address; an address on
   several accounts is left for staff to choose (the ticket says so).
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import nh3
import sqlalchemy as sa

from backhaul.sdk import current_plugin_settings, db, utcnow
from backhaul.sdk.accounts import Contact

from . import desk
from .models import InboundAddress, InboundMail, Ticket, TicketAttachment, TicketMessage

MAX_BODY = 100_000
MAX_ATTACHMENTS = 20
TOKEN_RE = re.compile(r"\[#(TK-[A-Z2-9]{6})\]")
MSGID_RE = re.compile(r"<[^<>\s]{1,290}>")
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
AUTO_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-reply")
#: HTML that ends a paragraph or a line when an HTML-only mail is turned into text
PARAGRAPH_END = re.compile(r"(?i)</(p|div|h[1-6]|table)>")
LINE_END = re.compile(r"(?i)<br\s*/?>|</(li|tr)>")


def _settings() -> dict:
    return current_plugin_settings("tickets")


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text, or "" when absent or unreadable (malformed mail is common)."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001  a header the parser chokes on counts as absent
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _address(value: str) -> tuple[str, str]:
    name, address = parseaddr(value)
    return name.strip()[:200], address.strip().lower()[:254]


def message_ids(msg: EmailMessage) -> list[str]:
    """The ids this message answers, nearest first (In-Reply-To, then References newest
    first), at most 50."""
    found = MSGID_RE.findall(_header(msg, "In-Reply-To"))
    found += list(reversed(MSGID_RE.findall(_header(msg, "References"))))
    return list(dict.fromkeys(found))[:50]


def is_bounce(msg: EmailMessage, mail_from: str, sender: str) -> bool:
    if mail_from in ("", "<>") and msg.get_content_type() == "multipart/report":
        return True
    if sender.partition("@")[0] in BOUNCE_SENDERS:
        return True
    return msg.get_content_type() == "multipart/report" and \
        str(msg.get_param("report-type", "")).lower() == "delivery-status"


def automatic_reason(msg: EmailMessage, sender: str) -> str | None:
    """Why this mail must not be answered (an auto-reply, a list, a loop), or ``None``."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTO_HEADERS:
        if _header(msg, name):
            return f"{name} header"
    if _header(msg, "X-Backhaul-Ticket"):
        return "one of our own messages came back (mail loop)"
    if db.session.scalar(sa.select(InboundAddress.id).where(InboundAddress.address == sender)):
        return "sent from one of our own inbound addresses (mail loop)"
    limit = _settings().get("loop_limit", 10)
    recent = db.session.scalar(sa.select(sa.func.count(InboundMail.id)).where(
        InboundMail.mail_from == sender,
        InboundMail.received_at > utcnow() - timedelta(hours=1))) or 0
    if recent >= limit:
        return f"more than {limit} messages in an hour from {sender} (mail loop)"
    return None


def body_text(msg: EmailMessage) -> str:
    """The text of the message: its plain part, else its HTML part without tags."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        text = part.get_content()
    except Exception:  # noqa: BLE001  an undecodable body: the raw mail is kept
        return "(the body could not be decoded; see the original message)"
    if not isinstance(text, str):
        return ""
    if part.get_content_type() == "text/html":
        text = LINE_END.sub("\n", PARAGRAPH_END.sub("\n\n", text[:2 * MAX_BODY]))
        text = html.unescape(nh3.clean(text, tags=set()))
        text = re.sub(r"[ \t]*\n\s*\n+", "\n\n", text)
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n\n[cut: the whole message is in the inbound mail log]"
    return text


def attachments(msg: EmailMessage) -> tuple[list[TicketAttachment], list[str]]:
    """The parts kept (bounded in size and number) and notes about those that were not."""
    limit = _settings().get("max_attachment_bytes", 5_000_000)
    kept, skipped = [], []
    try:
        parts = list(msg.iter_attachments()) if msg.is_multipart() else []
    except Exception:  # noqa: BLE001
        return [], ["the attachments could not be read; see the original message"]
    for part in parts:
        name = (part.get_filename() or "attachment").replace("\x00", "")[:255]
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:  # noqa: BLE001
            skipped.append(f"{name}: could not be decoded")
            continue
        if len(kept) >= MAX_ATTACHMENTS:
            skipped.append(f"{name}: more than {MAX_ATTACHMENTS} attachments")
        elif len(data) > limit:
            skipped.append(f"{name}: {len(data):,} bytes, over the {limit:,}-byte limit")
        else:
            kept.append(TicketAttachment(filename=name, size=len(data), data=data,
                                         content_type=part.get_content_type()[:100]))
    return kept, skipped


def find_ticket(msg: EmailMessage, subject: str) -> Ticket | None:
    ids = message_ids(msg)
    if ids:
        found = db.session.scalar(sa.select(TicketMessage.ticket_id).where(
            TicketMessage.message_id.in_(ids)).order_by(TicketMessage.id.desc()).limit(1))
        if found is not None:
            return db.session.get(Ticket, found)
    token = TOKEN_RE.search(subject)
    if token:
        return db.session.scalar(sa.select(Ticket).where(Ticket.token == token.group(1)))
    return None


def inbound_address(rcpt_tos: list[str], msg: EmailMessage) -> InboundAddress | None:
    """The inbound address the mail came to: envelope recipients first, then To/Cc."""
    candidates = [r.strip().lower() for r in rcpt_tos]
    headers = [_header(msg, "To"), _header(msg, "Cc"), _header(msg, "Delivered-To")]
    candidates += [a.lower() for _, a in getaddresses([h for h in headers if h])]
    for address in candidates:
        row = db.session.scalar(sa.select(InboundAddress).where(
            InboundAddress.address == address))
        if row is not None:
            return row
    return db.session.scalar(sa.select(InboundAddress).order_by(InboundAddress.id).limit(1))


def match_contact(sender: str) -> tuple[Contact | None, str]:
    """The contact with this address, and a note when it is ambiguous."""
    if not sender:
        return None, ""
    contacts = db.session.scalars(sa.select(Contact).where(
        sa.func.lower(Contact.email) == sender).order_by(Contact.id).limit(10)).all()
    accounts = {c.account_id for c in contacts}
    if len(accounts) > 1:
        return None, (f"{sender} is a contact on {len(accounts)} accounts: choose the "
                      "account on the ticket")
    return (contacts[0] if contacts else None), ""


def record(raw: bytes, mail_from: str, rcpt_tos: list[str], outcome: str, detail: str,
           msg: EmailMessage | None = None, ticket: Ticket | None = None) -> InboundMail:
    row = InboundMail(mail_from=(mail_from or "")[:300], rcpt_to=", ".join(rcpt_tos)[:1000],
                      size=len(raw), outcome=outcome, detail=detail[:4000], raw=raw,
                      ticket_id=ticket.id if ticket else None, received_at=utcnow())
    if msg is not None:
        ids = MSGID_RE.findall(_header(msg, "Message-ID"))
        row.message_id = ids[0] if ids else None
        row.subject = _header(msg, "Subject")[:300]
    db.session.add(row)
    db.session.flush()
    return row


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def ingest(raw: bytes, mail_from: str = "", rcpt_tos: list[str] | None = None, *,
           hold_unknown: bool | None = None) -> InboundMail:
    """Handle one accepted message (see the module docstring). Does not commit.

    :param hold_unknown: hold mail from unknown senders (default: the ``unknown_sender``
        setting is ``"hold"``).
    """
    if hold_unknown is None:
        hold_unknown = _settings().get("unknown_sender") == "hold"
    rcpt_tos = list(rcpt_tos or [])
    mail_from = (mail_from or "").strip().lower()
    limit = _settings().get("max_message_bytes", 10_000_000)
    if len(raw) > limit:  # the SMTP listener refuses these; another source may not
        return record(raw[:limit], mail_from, rcpt_tos, "failed",
                      f"{len(raw):,} bytes, over max_message_bytes ({limit:,}): only the "
                      "first part is kept; ask the sender for a smaller message")
    try:
        msg = parse(raw)
        _header(msg, "Subject")
    except Exception as exc:  # noqa: BLE001  keep what cannot be read
        return record(raw, mail_from, rcpt_tos, "failed", f"unreadable: {exc}")
    name, sender = _address(_header(msg, "From"))
    sender = sender or mail_from
    subject = _header(msg, "Subject")[:300] or "(no subject)"
    own_ids = MSGID_RE.findall(_header(msg, "Message-ID"))
    own_id = own_ids[0] if own_ids else None
    if own_id:
        done = db.session.scalar(sa.select(TicketMessage).where(
            TicketMessage.message_id == own_id, TicketMessage.kind == "inbound").limit(1))
        if done is not None:
            return record(raw, sender, rcpt_tos, "threaded",
                          f"a duplicate of a message already on {done.ticket.token}", msg,
                          done.ticket)
    ticket = find_ticket(msg, subject)
    if is_bounce(msg, mail_from, sender):
        return _bounce(raw, sender, rcpt_tos, msg, ticket)
    reason = automatic_reason(msg, sender)
    if ticket is not None:
        return _thread(raw, sender, rcpt_tos, msg, ticket, name, own_id, reason)
    contact, ambiguity = match_contact(sender)
    if contact is None and not ambiguity and hold_unknown:
        return record(raw, sender, rcpt_tos, "held",
                      f"{sender or 'no sender'} is not a known contact: held for staff "
                      "(release it to open a ticket)", msg)
    target = inbound_address(rcpt_tos, msg)
    return _open(raw, sender, rcpt_tos, msg, subject, name, own_id, reason, contact,
                 ambiguity, target)


def _inbound_message(ticket: Ticket, msg: EmailMessage, sender: str, name: str,
                     own_id: str | None, reason: str | None, mail: InboundMail
                     ) -> TicketMessage:
    kept, skipped = attachments(msg)
    text = body_text(msg)
    if skipped:
        text += "\n\n[attachments not kept: " + "; ".join(skipped) + "]"
    row = TicketMessage(ticket=ticket, kind="inbound", author=(name or sender)[:300],
                        from_address=sender, subject=_header(msg, "Subject")[:300],
                        to_address=(ticket.inbound_address.address
                                    if ticket.inbound_address else ""),
                        body_text=text or "(empty message)", message_id=own_id,
                        automatic=reason is not None, inbound_mail_id=mail.id, at=utcnow())
    row.attachments.extend(kept)
    db.session.add(row)
    ticket.last_activity_at = row.at
    return row


def _bounce(raw, sender, rcpt_tos, msg, ticket) -> InboundMail:
    mail = record(raw, sender, rcpt_tos, "bounce",
                  "a delivery failure report: no ticket opened, not answered", msg, ticket)
    if ticket is not None:
        note = TicketMessage(ticket=ticket, kind="note", author="mail system",
                                  body_text="A reply could not be delivered:\n\n"
                                            + (body_text(msg)[:4000] or "(no details)"),
                                  inbound_mail_id=mail.id, at=utcnow())
        db.session.add(note)
        mail.detail = f"a delivery failure report for {ticket.token}: noted on the ticket"
    return mail


def _thread(raw, sender, rcpt_tos, msg, ticket, name, own_id, reason) -> InboundMail:
    outcome, detail = "threaded", f"added to {ticket.token}"
    if ticket.status in ("solved", "closed"):
        outcome, detail = "reopened", f"{ticket.token} was {ticket.status}: reopened"
        desk.set_status(ticket, "open")
    elif ticket.status == "pending":
        desk.set_status(ticket, "open")
    if reason:
        detail += f"; automatic mail ({reason}): not answered"
    mail = record(raw, sender, rcpt_tos, outcome, detail, msg, ticket)
    _inbound_message(ticket, msg, sender, name, own_id, reason, mail)
    return mail


def _open(raw, sender, rcpt_tos, msg, subject, name, own_id, reason, contact, ambiguity,
          target) -> InboundMail:
    if target is None:
        return record(raw, sender, rcpt_tos, "held",
                      "no inbound address is configured: add one, then release this mail",
                      msg)
    clean = TOKEN_RE.sub("", subject).strip() or "(no subject)"
    ticket = Ticket(token=desk.new_token(), subject=clean[:300], status="new",
                    priority="normal", group_id=target.group_id,
                    category_id=target.category_id, inbound_address_id=target.id,
                    account_id=contact.account_id if contact else None,
                    contact_id=contact.id if contact else None, requester_email=sender,
                    requester_name=name or (contact.name if contact else ""), source="email",
                    last_activity_at=utcnow())
    db.session.add(ticket)
    db.session.flush()
    desk.announce(ticket, "opened")
    detail = f"opened {ticket.token} in {target.group.name}"
    if contact is None:
        detail += f"; {ambiguity or (sender or 'the sender') + ' is not a known contact'}"
    if reason:
        detail += f"; automatic mail ({reason}): not answered"
    mail = record(raw, sender, rcpt_tos, "ticket", detail, msg, ticket)
    inbound = _inbound_message(ticket, msg, sender, name, own_id, reason, mail)
    if ambiguity:
        desk.add_note(ticket, ambiguity).author = "mail system"
    if reason is None:
        db.session.flush()
        desk.acknowledge(ticket, inbound)
    return mail


def release(mail: InboundMail) -> InboundMail:
    """Staff action on a held (or failed) mail: ingest it again, as if the sender were known
    (a held mail opens its ticket). The original row is marked ``released``."""
    if mail.outcome not in ("held", "failed"):
        from marshmallow import ValidationError

        raise ValidationError({"id": [f"this mail was {mail.outcome}, not held"]})
    result = ingest(mail.raw, mail.mail_from, [r.strip() for r in mail.rcpt_to.split(",")
                                               if r.strip()], hold_unknown=False)
    mail.outcome = "released"
    mail.detail = f"{mail.detail} — released: {result.detail}"[:4000]
    return result
