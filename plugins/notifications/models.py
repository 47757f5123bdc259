"""The notifications plugin's tables (prefix ``notifications_``).

* :class:`ChannelConfig` — a configured channel (an SMTP server, an SMS gateway, a webhook
  endpoint); its settings are a configured instance (``backhaul.sdk.instances``: secrets
  encrypted at rest, never shown back or audited); one *default* per templated medium.
* :class:`MessageTemplate` — what staff write, per event type and medium.
* :class:`Message` — one message to one recipient over one channel: rendered at queue time,
  so what was previewed and logged is what is sent. ``idempotency_key`` is unique per
  message + recipient + channel, which makes ``notify`` safe to call twice.
* :class:`Attachment`, :class:`DeliveryLog` (queued, sent, retry, failed with the reason),
  :class:`Notice` (manual and maintenance notices), :class:`Unsubscribe` (who opted out when).
* :class:`HtmlPreview` — an unsaved template's rendered HTML, kept for a few minutes so the
  editor's sandboxed frame can load it from its own URL (see :mod:`.previews`).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.sdk import TimestampMixin, UTCDateTime, db, utcnow
from backhaul.sdk.instances import get_instance

MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "cancelled")
LOG_EVENTS = ("queued", "sent", "retry", "failed", "cancelled")
NOTICE_STATUSES = ("draft", "sending", "sent")


class ChannelConfig(TimestampMixin, db.Model):
    __tablename__ = "notifications_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: the ``key`` of the contributed NotificationChannel ("email_smtp", "webhook"...)
    channel_key: Mapped[str] = mapped_column(sa.String(64))
    medium: Mapped[str] = mapped_column(sa.String(32), index=True)
    #: the configured instance holding the channel's settings (secrets encrypted)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("core_extension_instance.id"))
    enabled: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    #: messages per minute through this channel; 0 = no limit
    rate_limit_per_minute: Mapped[int] = mapped_column(default=0)

    @property
    def settings(self) -> dict:
        """The channel's validated settings, secrets decrypted (keep them out of logs)."""
        instance = get_instance(self.instance_id) if self.instance_id else None
        return dict(instance.settings) if instance is not None else {}

    __table_args__ = (
        sa.Index("uq_notifications_channel_default", "medium", unique=True,
                 postgresql_where=sa.text("is_default"), sqlite_where=sa.text("is_default")),
    )


class MessageTemplate(TimestampMixin, db.Model):
    __tablename__ = "notifications_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(100))
    medium: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (sa.UniqueConstraint("event_key", "medium"),)


class Notice(TimestampMixin, db.Model):
    __tablename__ = "notifications_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(32), default="outages")
    essential: Mapped[bool] = mapped_column(default=False)
    #: {"buildings": [ids], "addresses": [ids], "statuses": [keys], "groups": [ids]}
    selection: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    media: Mapped[list] = mapped_column(sa.JSON, default=list)
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    sms_text: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(sa.String(200), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'sending', 'sent')", name="status"),
    )


class Message(TimestampMixin, db.Model):
    __tablename__ = "notifications_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    event_key: Mapped[str] = mapped_column(sa.String(100), index=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    essential: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_contact.id", ondelete="SET NULL"))
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications_channel.id"),
                                            index=True)
    notice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications_notice.id", ondelete="SET NULL"), index=True)
    medium: Mapped[str] = mapped_column(sa.String(32))
    recipient: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(sa.String(300))
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    channel: Mapped[ChannelConfig] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id")
    log: Mapped[list[DeliveryLog]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="DeliveryLog.id")

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')",
                           name="status"),
    )


class Attachment(db.Model):
    __tablename__ = "notifications_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications_message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)

    message: Mapped[Message] = relationship(back_populates="attachments")


class DeliveryLog(db.Model):
    __tablename__ = "notifications_delivery_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notifications_message.id", ondelete="CASCADE"), index=True)
    #: denormalised so an endpoint's log is one indexed query
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications_channel.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[str] = mapped_column(sa.String(16))
    attempt: Mapped[int] = mapped_column(default=0)
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    duration_ms: Mapped[int | None] = mapped_column()

    message: Mapped[Message] = relationship(back_populates="log")

    __table_args__ = (
        sa.Index("ix_notifications_delivery_log_channel_at", "channel_id", "at"),
        sa.CheckConstraint("event IN ('queued', 'sent', 'retry', 'failed', 'cancelled')",
                           name="event"),
    )


class Unsubscribe(db.Model):
    __tablename__ = "notifications_unsubscribe"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_contact.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    medium: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HtmlPreview(db.Model):
    """Short-lived: rows past ``expires_at`` are never served and are purged."""

    __tablename__ = "notifications_preview"

    #: random, unguessable (``secrets.token_urlsafe``); the preview's URL
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: the actor who rendered it ("user:12"); nobody else is shown it
    owner: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
