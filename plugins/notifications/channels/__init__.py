"""The channels this plugin contributes through the core's ``notification_channels`` hook.

Each is a :class:`backhaul.sdk.NotificationChannel` with a marshmallow settings schema
(validated when staff save a channel configuration) and a ``medium``: templates are written
per event and *medium* (email, sms), so swapping one SMTP server or SMS gateway for another
needs no template change. Webhook endpoints receive JSON and need no template. A third-party
channel without a ``medium`` attribute is its own medium (its ``key``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import ClassVar

from backhaul.sdk import DeliveryResult, NotificationChannel, OutboundMessage

#: the media whose messages are written from staff templates, with the contact field they use
TEMPLATED_MEDIA = {"email": "email", "sms": "phone"}


class ChannelBase(NotificationChannel):
    """What the notifications plugin expects on top of the SDK's base class.

    Subclasses implement :meth:`deliver`. :meth:`send` refuses a message without recipient
    and remembers the idempotency keys it delivered successfully (the last
    ``remembered`` of them, in this process): the same message handed over twice, e.g. by a
    duplicated job, is answered with the first result instead of being sent again. Across
    processes the delivery job's claim on the message row gives the same guarantee.
    """

    remembered: ClassVar[int] = 10_000

    def __init__(self):
        self._sent: OrderedDict[str, DeliveryResult] = OrderedDict()
        self._lock = threading.Lock()

    def deliver(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        raise NotImplementedError

    def send(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        if not message.to or not all(message.to):
            return DeliveryResult(False, None, "the message has no recipient", retryable=False)
        key = message.idempotency_key
        if key:
            with self._lock:
                if key in self._sent:
                    return self._sent[key]
        result = self.deliver(message, settings)
        if result.ok and key:
            with self._lock:
                self._sent[key] = result
                while len(self._sent) > self.remembered:
                    self._sent.popitem(last=False)
        return result

    def send_test(self, settings: dict, to: str) -> DeliveryResult:
        """The "send test" action: one short message to ``to`` with these settings."""
        return self.send(OutboundMessage(
            to=(to,), subject="Backhaul test message",
            body_text="This is a test message from Backhaul. If you can read it, this "
                      "channel works."), settings)

    def redacted(self, settings: dict) -> dict:
        return {k: ("***" if k in self.secret_fields and v else v) for k, v in settings.items()}


def medium_of(channel: NotificationChannel) -> str:
    return getattr(channel, "medium", "") or channel.key


def builtin_channels() -> list[NotificationChannel]:
    from .email_smtp import SmtpEmailChannel
    from .sms_http import HttpSmsChannel
    from .webhook import WebhookChannel

    return [SmtpEmailChannel(), HttpSmsChannel(), WebhookChannel()]
