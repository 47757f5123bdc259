"""The tickets plugin's tables (prefix ``tickets_``); migration ``tickets_0001``.

* :class:`Group` — a queue staff answer from (Support, Billing, Maple Court...).
* :class:`Category` — what a ticket is about (outage, billing question...).
* :class:`InboundAddress` — an address mail arrives on, mapped to a group and category; a
  ticket is answered *from* the address it came in on.
* :class:`Ticket` and its :class:`TicketMessage` rows (inbound mail, public replies,
  internal notes) with their :class:`TicketAttachment` rows.
* :class:`InboundMail` — every message the listener accepted, raw and bounded, with what was
  done with it (a new ticket, threaded, held, a bounce...): nothing accepted is lost.
* :class:`CannedReply` — a staff-written reply template with variables.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.sdk import TimestampMixin, UTCDateTime, db, utcnow

STATUSES = ("new", "open", "pending", "solved", "closed")
#: statuses in which a ticket still needs staff
OPEN_STATUSES = ("new", "open")
PRIORITIES = ("low", "normal", "high", "urgent")
MESSAGE_KINDS = ("inbound", "reply", "note")
INBOUND_OUTCOMES = ("ticket", "threaded", "reopened", "held", "bounce", "failed", "released")


class Group(TimestampMixin, db.Model):
    __tablename__ = "tickets_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)


class Category(TimestampMixin, db.Model):
    __tablename__ = "tickets_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)


class InboundAddress(TimestampMixin, db.Model):
    __tablename__ = "tickets_inbound_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower case, unique
    address: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: the display name replies carry ("Maple Court Support")
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets_group.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets_category.id"))

    group: Mapped[Group] = relationship()
    category: Mapped[Category | None] = relationship()


class Ticket(TimestampMixin, db.Model):
    __tablename__ = "tickets_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: in subjects as ``[#TK-ABC123]``: a reply whose headers were stripped still threads
    token: Mapped[str] = mapped_column(sa.String(16), unique=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(16), default="new", index=True)
    priority: Mapped[str] = mapped_column(sa.String(16), default="normal")
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets_group.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets_category.id"))
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_contact.id", ondelete="SET NULL"))
    #: who to answer (the sender of the first mail, or the contact's address)
    requester_email: Mapped[str] = mapped_column(sa.String(254), default="")
    requester_name: Mapped[str] = mapped_column(sa.String(200), default="")
    inbound_address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets_inbound_address.id"))
    #: ``email`` (came in by mail) or ``staff`` (opened by staff: a phone call, a visit)
    source: Mapped[str] = mapped_column(sa.String(16), default="staff")
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                       index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[Group] = relationship()
    category: Mapped[Category | None] = relationship()
    inbound_address: Mapped[InboundAddress | None] = relationship()
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("status IN ('new', 'open', 'pending', 'solved', 'closed')",
                           name="status"),
        sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
    )


class TicketMessage(db.Model):
    __tablename__ = "tickets_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets_ticket.id", ondelete="CASCADE"), index=True)
    #: inbound (mail from the customer), reply (public, e-mailed) or note (internal)
    kind: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: a staff actor ("user:3") for replies and notes, the sender for inbound mail
    author: Mapped[str] = mapped_column(sa.String(300), default="")
    from_address: Mapped[str] = mapped_column(sa.String(254), default="")
    to_address: Mapped[str] = mapped_column(sa.String(254), default="")
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    #: RFC 5322 Message-ID (with brackets) of the mail received or sent: threading
    message_id: Mapped[str | None] = mapped_column(sa.String(300), index=True)
    #: the inbound mail was an auto-reply or part of a loop: it is never answered
    automatic: Mapped[bool] = mapped_column(default=False)
    #: the notifications plugin's message that carries a reply (delivery log)
    notification_id: Mapped[int | None] = mapped_column()
    inbound_mail_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets_inbound_mail.id", ondelete="SET NULL"))

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        order_by="TicketAttachment.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('inbound', 'reply', 'note')", name="kind"),
    )


class TicketAttachment(db.Model):
    __tablename__ = "tickets_attachment"
    __audit_exclude__ = ("data",)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class InboundMail(db.Model):
    """One accepted message, kept raw: the ticket can always be rebuilt from it."""

    __tablename__ = "tickets_inbound_mail"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    mail_from: Mapped[str] = mapped_column(sa.String(300), default="")
    rcpt_to: Mapped[str] = mapped_column(sa.String(1000), default="")
    message_id: Mapped[str | None] = mapped_column(sa.String(300), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    size: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    ticket_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tickets_ticket.id", ondelete="SET NULL"), index=True)
    raw: Mapped[bytes] = mapped_column(sa.LargeBinary)

    __table_args__ = (
        sa.CheckConstraint("outcome IN ('ticket', 'threaded', 'reopened', 'held', 'bounce', "
                           "'failed', 'released')", name="outcome"),
    )


class CannedReply(TimestampMixin, db.Model):
    __tablename__ = "tickets_canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    body_text: Mapped[str] = mapped_column(sa.Text)
    #: offered in this group only (``None``: everywhere)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets_group.id"))


class SavedView(TimestampMixin, db.Model):
    """A named set of queue filters: one person's, or shared with everyone (``owner_id``
    empty). ``filters`` holds only the list's known keys (group, status, priority,
    category, assignee, q, sort)."""

    __tablename__ = "tickets_saved_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    #: who saved it (a shared view may be removed by them or by a desk manager)
    created_by: Mapped[int | None] = mapped_column()
    filters: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class ImapMailbox(TimestampMixin, db.Model):
    """A mailbox fetched over IMAP (a hosted ``support@`` the ISP cannot point at the SMTP
    listener): what arrives in its folder counts as received on ``inbound_address``.

    Fetching is by UID, read-only (nothing is flagged or deleted on the server): ``last_uid``
    is the highest UID handled, committed together with the tickets it made, so nothing is
    fetched twice or skipped; a new ``uid_validity`` (the folder was rebuilt) starts again
    from the first UID (Message-IDs already on tickets are not added twice)."""

    __tablename__ = "tickets_imap_mailbox"
    #: ``encrypt_json`` tokens: re-encrypted by ``backhaul secrets rotate``, audited as "***"
    __sealed__ = ("secrets",)
    __audit_secret__ = ("secrets",)
    __audit_exclude__ = ("last_uid", "uid_validity", "last_polled_at", "last_error",
                         "fetched")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(default=993)
    #: ``ssl`` (IMAPS, 993), ``starttls`` (143) or ``none`` (a loopback or trusted network)
    security: Mapped[str] = mapped_column(sa.String(16), default="ssl")
    username: Mapped[str] = mapped_column(sa.String(254))
    #: ``encrypt_json({"password": ...})``: a copy of the database alone reveals nothing
    secrets: Mapped[str] = mapped_column(sa.Text, default="")
    folder: Mapped[str] = mapped_column(sa.String(200), default="INBOX")
    inbound_address_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tickets_inbound_address.id", name="fk_tickets_imap_mailbox_address"))
    enabled: Mapped[bool] = mapped_column(default=True)
    uid_validity: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_uid: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: messages handled so far (all polls)
    fetched: Mapped[int] = mapped_column(default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, default="")

    inbound_address: Mapped[InboundAddress] = relationship()
