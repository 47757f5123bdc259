"""Turning an event into messages: route, render, write rows, enqueue delivery jobs.

Everything happens in the caller's transaction (``notify`` is called inside billing's
invoice run, for example): if it rolls back, no message and no job exist. Templates are
rendered here, once, so that the stored message is exactly what is sent and what the log
shows. A template that fails at this point (a caller passed fewer variables than its event
declared) becomes a *failed* message with the reason: it never breaks the caller.

Every message has an ``idempotency_key`` unique per source (event + dedupe key, or notice),
medium, channel and recipient: calling ``notify`` twice with the same ``dedupe_key`` queues
nothing the second time.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import Money, current_plugin_settings, db, utcnow
from backhaul.sdk.accounts import get_account

from . import catalogue, delivery, routing, templates, unsubscribe
from .api import EventType
from .channels import TEMPLATED_MEDIA
from .channels.webhook import wants as webhook_wants
from .models import Attachment, ChannelConfig, DeliveryLog, Message, MessageTemplate

log = logging.getLogger("backhaul.notifications")


@dataclass
class Content:
    """What to render for one medium: a stored template, or a manual notice's text."""

    subject: str = ""
    body_text: str = ""
    body_html: str | None = None


@dataclass
class Source:
    """Where messages come from: an event (with its type) or a manual notice."""

    event_key: str
    category: str
    essential: bool
    key: str  # dedupe part of the idempotency key
    notice_id: int | None = None
    content: dict[str, Content] = field(default_factory=dict)  # by medium
    channels: dict[str, ChannelConfig | None] = field(default_factory=dict)  # lookup cache

    def channel(self, medium: str) -> ChannelConfig | None:
        if medium not in self.channels:
            self.channels[medium] = channel_for(medium)
        return self.channels[medium]


def idempotency_key(*parts: Any) -> str:
    raw = ":".join(str(p) for p in parts)
    if len(raw) <= 200:
        return raw
    return raw[:150] + ":" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def channel_for(medium: str) -> ChannelConfig | None:
    """The enabled channel a templated medium uses: its default, else the oldest."""
    return db.session.scalar(
        sa.select(ChannelConfig).where(ChannelConfig.medium == medium, ChannelConfig.enabled)
        .order_by(ChannelConfig.is_default.desc(), ChannelConfig.id).limit(1))


def common_context(account, contact, source: Source, medium: str) -> dict:
    settings = current_plugin_settings("notifications")
    address = account.address.one_line if account.address is not None else ""
    unsubscribe_url = ""
    if contact is not None and not source.essential and \
            source.category in routing.PREFERENCE_CATEGORIES:
        unsubscribe_url = unsubscribe.url(contact.id, source.category, medium)
    return {
        "account": {"number": account.number, "name": account.name,
                    "status": account.status.name, "address": address},
        "contact": {"name": contact.name if contact else "",
                    "email": (contact.email or "") if contact else "",
                    "phone": (contact.phone or "") if contact else ""},
        "company": {"name": settings.get("company_name", "")},
        "unsubscribe_url": unsubscribe_url,
    }


def render_content(content: Content, context: Mapping, medium: str) -> Content:
    """Render subject, text and HTML; raises :class:`templates.TemplateProblem`."""
    subject = templates.one_line(templates.render(content.subject, context, "subject")) \
        if content.subject else ""
    text = templates.render(content.body_text, context, "body_text",
                            limit=templates.OUTPUT_LIMITS["sms"] if medium == "sms" else None)
    html = templates.render(content.body_html, context, "body_html", html=True) \
        if medium == "email" and content.body_html else None
    url = context.get("unsubscribe_url")
    if url and medium == "email" and url not in text:
        text = f"{text.rstrip()}\n\n--\nUnsubscribe: {url}\n"
    if url and html is not None and url not in html:
        html += f'<p style="font-size:small"><a href="{url}">Unsubscribe</a></p>'
    return Content(subject, text, html)


def jsonable(value: Any) -> Any:
    """Context values as JSON for webhook payloads (Money keeps its minor units)."""
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency, "formatted": str(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _headers(cfg: ChannelConfig, medium: str, context: Mapping) -> dict:
    if medium != "email":
        return {}
    domain = str(cfg.settings.get("from_address", "backhaul.invalid")).rpartition("@")[2]
    # short enough never to be folded onto a second header line
    headers = {"Message-ID": f"<{uuid.uuid4().hex}@{domain or 'backhaul.invalid'}>"}
    if context.get("unsubscribe_url"):
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _new_message(source: Source, cfg: ChannelConfig, medium: str, recipient: str,
                 account_id: int | None, contact_id: int | None, key: str) -> Message:
    settings = current_plugin_settings("notifications")
    return Message(idempotency_key=key, event_key=source.event_key, category=source.category,
                   essential=source.essential, account_id=account_id, contact_id=contact_id,
                   channel_id=cfg.id, notice_id=source.notice_id, medium=medium,
                   recipient=recipient, status="queued", attempts=0,
                   max_attempts=settings.get("max_attempts", 8), headers={})


def _queue(message: Message, attachments: Iterable, detail: str) -> Message | None:
    """Insert the message (in a savepoint) and schedule it; ``None`` if a concurrent
    transaction queued the same idempotency key first (the caller's work goes on)."""
    for filename, content, mime in attachments:
        message.attachments.append(Attachment(filename=filename, content_type=mime,
                                              size=len(content), data=content))
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        log.info("message %s was queued by another transaction", message.idempotency_key)
        return None
    db.session.add(DeliveryLog(message_id=message.id, channel_id=message.channel_id,
                               event="queued", attempt=0, detail=detail))
    if message.status == "queued":
        delivery.schedule(message)
    return message


def _existing(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.session.scalars(sa.select(Message.idempotency_key)
                                  .where(Message.idempotency_key.in_(keys))))


def queue_for_account(source: Source, account, context: Mapping, attachments: tuple = (),
                      ) -> list[Message]:
    """Create (and schedule) this source's messages for one account, on every medium."""
    created: list[Message] = []
    for medium, content in source.content.items():
        cfg = source.channel(medium)
        if cfg is None:
            log.warning("%s: no enabled %s channel; nothing queued", source.event_key, medium)
            continue
        recipients, _ = routing.route(account, source.category, source.essential, medium)
        keys = {c.id: idempotency_key(source.key, medium, cfg.id, c.id) for c in recipients}
        done = _existing(list(keys.values()))
        for contact in recipients:
            if keys[contact.id] in done:
                continue
            msg = _new_message(source, cfg, medium, routing.address_of(contact, medium),
                               account.id, contact.id, keys[contact.id])
            ctx = templates.merge(dict(context), common_context(account, contact, source, medium))
            try:
                rendered = render_content(content, ctx, medium)
            except templates.TemplateProblem as exc:
                msg.status, msg.last_error = "failed", f"template: {exc}"
                created.append(_queue(msg, (), f"not sent: template: {exc}"))
                continue
            msg.subject, msg.body_text, msg.body_html = (
                rendered.subject, rendered.body_text, rendered.body_html)
            msg.headers = _headers(cfg, medium, ctx)
            created.append(_queue(msg, attachments if medium == "email" else (),
                                  f"to {contact.name} <{msg.recipient}>"))
    return [m for m in created if m is not None]


def queue_webhooks(source: Source, account, context: Mapping) -> list[Message]:
    """One signed JSON delivery per enabled webhook endpoint subscribed to the event."""
    endpoints = db.session.scalars(sa.select(ChannelConfig).where(
        ChannelConfig.medium == "webhook", ChannelConfig.enabled).order_by(ChannelConfig.id))
    created = []
    for cfg in endpoints:
        if not webhook_wants(cfg.settings, source.event_key):
            continue
        key = idempotency_key(source.key, "webhook", cfg.id)
        if _existing([key]):
            continue
        payload = {"id": key, "event": source.event_key, "created_at": utcnow().isoformat(),
                   "account": {"id": account.id, "number": account.number} if account else None,
                   "data": jsonable(context)}
        msg = _new_message(source, cfg, "webhook", cfg.settings.get("url", ""),
                           account.id if account else None, None, key)
        msg.subject, msg.body_text = source.event_key, json.dumps(payload, sort_keys=True)
        created.append(_queue(msg, (), f"to {msg.recipient}"))
    return [m for m in created if m is not None]


def templates_for(event_key: str, defaults: Mapping | None = None) -> dict[str, Content]:
    """Staff's saved templates; a medium with no row (enabled or not) uses the event's
    shipped default, if any (a template switched off stays off)."""
    rows = list(db.session.scalars(sa.select(MessageTemplate).where(
        MessageTemplate.event_key == event_key)))
    out = {t.medium: Content(t.subject, t.body_text, t.body_html) for t in rows
           if t.enabled and t.medium in TEMPLATED_MEDIA}
    saved = {t.medium for t in rows}
    for medium, (subject, text, html) in (defaults or {}).items():
        if medium in TEMPLATED_MEDIA and medium not in saved:
            out[medium] = Content(subject, text, html)
    return out


def event_source(event: EventType, dedupe_key: str | None) -> Source:
    return Source(event_key=event.key, category=event.category, essential=event.essential,
                  key=f"{event.key}:{dedupe_key or uuid.uuid4().hex}",
                  content=templates_for(event.key, event.defaults))


def notify(event_key: str, account_id: int, context: Mapping, attachments: tuple = (),
           dedupe_key: str | None = None) -> list[int]:
    """The implementation behind ``backhaul.plugins.notifications.api.notify``."""
    event = catalogue.get(event_key)
    account = get_account(account_id)
    if account is None:
        raise LookupError(f"notify({event_key}): no account with id {account_id}")
    source = event_source(event, dedupe_key)
    created = queue_for_account(source, account, context, tuple(attachments))
    created += queue_webhooks(source, account, context)
    return [m.id for m in created]


def send_email(to: str, subject: str, body_text: str, *, account_id: int | None,
               contact_id: int | None, from_address: str | None, from_name: str,
               headers: dict, attachments: tuple, source: str, category: str,
               dedupe_key: str | None) -> int | None:
    """The implementation behind ``api.send_email``: one written message, no template."""
    from email.utils import formataddr

    cfg = channel_for("email")
    if cfg is None:
        log.warning("%s: no enabled email channel; nothing queued", source)
        return None
    src = Source(event_key=source[:100], category=category, essential=True,
                 key=f"{source}:{dedupe_key or uuid.uuid4().hex}")
    key = idempotency_key(src.key, "email", cfg.id, to)
    existing = db.session.scalar(sa.select(Message.id).where(Message.idempotency_key == key))
    if existing is not None:
        return existing
    msg = _new_message(src, cfg, "email", to[:500], account_id, contact_id, key)
    msg.subject = templates.one_line(subject)[:1000]
    msg.body_text = body_text
    out = _headers(cfg, "email", {})
    if from_address:
        out["From"] = formataddr((from_name or "", from_address))
    out.update({k: v for k, v in headers.items() if k.lower() != "from"})
    msg.headers = out
    queued = _queue(msg, attachments, f"to {to}")
    return queued.id if queued is not None else None


def publish_event(event_key: str, data: Mapping, account_id: int | None,
                  dedupe_key: str | None) -> list[int]:
    """The implementation behind ``api.publish_event``: webhook deliveries only."""
    account = get_account(account_id) if account_id is not None else None
    source = Source(event_key=event_key[:100], category="service", essential=True,
                    key=f"{event_key}:{dedupe_key or uuid.uuid4().hex}")
    return [m.id for m in queue_webhooks(source, account, data)]


def webhook_endpoints() -> list[dict]:
    rows = db.session.scalars(sa.select(ChannelConfig).where(ChannelConfig.medium == "webhook")
                              .order_by(ChannelConfig.name))
    return [{"id": c.id, "name": c.name, "url": c.settings.get("url", ""),
             "events": list(c.settings.get("events") or ["*"]), "enabled": c.enabled}
            for c in rows]


class NotificationService:
    """Registered as ``app.extensions["backhaul.notifications"]`` for the SDK's ``notify``."""

    def send_email(self, to: str, subject: str, body_text: str, **kwargs) -> int | None:
        return send_email(to, subject, body_text, **kwargs)

    def notify(self, event_key: str, account_id: int, context: Mapping,
               attachments: tuple = (), dedupe_key: str | None = None) -> list[int]:
        return notify(event_key, account_id, context, attachments, dedupe_key)

    def publish_event(self, event_key: str, data: Mapping, account_id: int | None = None,
                      dedupe_key: str | None = None) -> list[int]:
        return publish_event(event_key, data, account_id, dedupe_key)

    def webhook_endpoints(self) -> list[dict]:
        return webhook_endpoints()
