"""Delivery jobs: one job per attempt, claimed once, logged, retried with backoff.

A message is sent by :func:`deliver`, a job enqueued with ``backhaul.sdk.enqueue`` under the
key ``notifications.deliver:<message id>:<attempt>`` (so the same attempt is never queued
twice). The job

1. checks the channel's rate limit (a full minute defers it without using an attempt);
2. claims the message with a conditional UPDATE ``queued -> sending`` and commits, so two
   workers that got the same job cannot both send;
3. calls the channel, then records the outcome and commits at once:
   ``sent`` (with the provider's id, e.g. the Message-ID), or ``queued`` again with an
   exponentially later ``next_attempt_at`` and a new delayed job (``retry`` in the log), or
   ``failed`` with the reason when the error is permanent or the attempts are used up.

A ``sent`` message is never claimed again: success is final, so a retry can never send twice.
A worker that dies mid-send leaves the message ``sending``; :func:`recover_stale` (a periodic
job) puts it back in the queue after ``stale_sending_minutes`` and says so in the log.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import (
    DeliveryResult,
    OutboundMessage,
    current_plugin_settings,
    db,
    enqueue,
    registered,
    utcnow,
)

from .models import ChannelConfig, DeliveryLog, Message

log = logging.getLogger("backhaul.notifications")

QUEUE = "notifications"


def _settings() -> dict:
    return current_plugin_settings("notifications")


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: base * 2^(n-1), capped."""
    s = _settings()
    base, cap = s.get("retry_base_seconds", 60), s.get("retry_max_seconds", 6 * 3600)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def schedule(message: Message, delay: timedelta | None = None, tag: str = "") -> None:
    """Enqueue the job for the message's next attempt (in the current transaction)."""
    key = f"notifications.deliver:{message.id}:{message.attempts + 1}{tag}"
    enqueue(deliver, message.id, key=key, queue=QUEUE, max_attempts=3, delay=delay)


def _log(message: Message, event: str, detail: str, duration_ms: int | None = None) -> None:
    db.session.add(DeliveryLog(message_id=message.id, channel_id=message.channel_id,
                               event=event, attempt=message.attempts, detail=detail[:4000],
                               duration_ms=duration_ms))


def _rate_limited(cfg: ChannelConfig, now) -> timedelta | None:
    """How long to wait when the channel's per-minute budget is spent, else ``None``."""
    if not cfg.rate_limit_per_minute:
        return None
    # serialise the check between workers on PostgreSQL (SQLite serialises writers anyway)
    db.session.execute(sa.select(ChannelConfig.id).where(ChannelConfig.id == cfg.id)
                       .with_for_update())
    window_start = now - timedelta(minutes=1)
    sent = db.session.scalars(sa.select(DeliveryLog.at).where(
        DeliveryLog.channel_id == cfg.id, DeliveryLog.event == "sent",
        DeliveryLog.at > window_start).order_by(DeliveryLog.at)).all()
    in_flight = db.session.scalar(sa.select(sa.func.count(Message.id)).where(
        Message.channel_id == cfg.id, Message.status == "sending")) or 0
    if len(sent) + in_flight < cfg.rate_limit_per_minute:
        return None
    oldest = sent[0] if sent else now
    return max(oldest + timedelta(minutes=1) - now, timedelta(seconds=1))


def _claim(message_id: int) -> str:
    """``claimed`` or why not: ``gone``, ``not queued``, ``not due``, ``rate limited``."""
    now = utcnow()
    message = db.session.get(Message, message_id)
    if message is None:
        return "gone"
    if message.status != "queued":
        return "not queued"
    if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
        return "not due"  # an early duplicate job; the scheduled one will run
    wait = _rate_limited(message.channel, now)
    if wait is not None:
        schedule(message, delay=wait, tag=f":rl{int(now.timestamp())}")
        db.session.commit()
        return "rate limited"
    claimed = db.session.execute(
        sa.update(Message).where(Message.id == message_id, Message.status == "queued")
        .values(status="sending", claimed_at=now, attempts=Message.attempts + 1))
    db.session.commit()
    return "claimed" if claimed.rowcount == 1 else "not queued"


def outbound(message: Message) -> OutboundMessage:
    return OutboundMessage(
        to=(message.recipient,), subject=message.subject, body_text=message.body_text,
        body_html=message.body_html,
        attachments=tuple((a.filename, a.data, a.content_type) for a in message.attachments),
        headers=dict(message.headers or {}), idempotency_key=message.idempotency_key)


def _send(message: Message) -> DeliveryResult:
    cfg = message.channel
    channel = registered("notification_channels").get(cfg.channel_key)
    if channel is None:
        return DeliveryResult(False, None, f"channel type '{cfg.channel_key}' is not available "
                                           "(is its plugin enabled?)")
    if not cfg.enabled:
        return DeliveryResult(False, None, f"channel '{cfg.name}' is disabled")
    try:
        return channel.send(outbound(message), cfg.settings)
    except Exception as exc:  # a channel must not raise; if it does, treat it as retryable
        log.exception("channel %s raised while sending message %s", cfg.channel_key, message.id)
        return DeliveryResult(False, None, f"{type(exc).__name__}: {exc}")


def record(message: Message, result: DeliveryResult, duration_ms: int | None) -> str:
    """Apply one attempt's outcome to the message and the log (caller commits)."""
    now = utcnow()
    if result.ok:
        message.status, message.sent_at, message.last_error = "sent", now, None
        message.provider_id = result.provider_id or message.provider_id
        _log(message, "sent", result.message or "sent", duration_ms)
        return "sent"
    message.last_error = result.message
    if result.retryable and message.attempts < message.max_attempts:
        delay = backoff(message.attempts)
        message.status, message.next_attempt_at = "queued", now + delay
        _log(message, "retry", f"attempt {message.attempts} failed: {result.message}; next "
                               f"attempt in {int(delay.total_seconds())}s", duration_ms)
        schedule(message, delay=delay)
        return "retry"
    message.status = "failed"
    why = "permanent error" if not result.retryable else f"gave up after {message.attempts} " \
                                                          "attempts"
    _log(message, "failed", f"{why}: {result.message}", duration_ms)
    return "failed"


def deliver(message_id: int) -> str:
    """The job: send one message once. Returns what happened (for logs and tests)."""
    claim = _claim(message_id)
    if claim != "claimed":
        return claim
    message = db.session.get(Message, message_id)
    db.session.refresh(message)
    started = time.perf_counter()
    result = _send(message)
    outcome = record(message, result, int((time.perf_counter() - started) * 1000))
    db.session.commit()
    return outcome


def retry_now(message: Message) -> bool:
    """Staff action: send a queued or failed message again now. ``False`` if already sent."""
    if message.status not in ("queued", "failed"):
        return False
    if message.status == "failed":
        message.max_attempts = max(message.max_attempts, message.attempts + 1)
    message.status, message.next_attempt_at = "queued", utcnow()
    _log(message, "queued", "queued again by staff")
    db.session.flush()
    schedule(message, tag=f":now{int(time.time())}")
    return True


def cancel(message: Message) -> bool:
    """Staff action: do not send a queued message. ``False`` unless it was queued."""
    if message.status != "queued":
        return False
    message.status = "cancelled"
    _log(message, "cancelled", "cancelled by staff")
    return True


def recover_stale() -> int:
    """Periodic: requeue messages left ``sending`` by a worker that died. Returns the count."""
    limit = utcnow() - timedelta(minutes=_settings().get("stale_sending_minutes", 15))
    stale = db.session.scalars(sa.select(Message).where(
        Message.status == "sending", Message.claimed_at < limit)).all()
    for message in stale:
        message.status, message.next_attempt_at = "queued", utcnow()
        _log(message, "retry", "the delivery was interrupted (worker lost); sending again")
        db.session.flush()
        schedule(message, tag=":stale")
    db.session.commit()
    return len(stale)
