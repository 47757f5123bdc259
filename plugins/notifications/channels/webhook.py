"""Outbound webhooks: a signed JSON POST per event to each subscribed endpoint.

The message's ``body_text`` is the JSON payload (built by the plugin when the event fires);
this channel only signs and posts it. Any answer other than 2xx, and no answer at all, is a
failure that the delivery job retries with exponential backoff; every attempt lands in the
endpoint's delivery log.
"""
from __future__ import annotations

import json
import time

from marshmallow import Schema, fields, validate

from backhaul.sdk import DeliveryResult, OutboundMessage, utcnow

from .. import signing
from . import ChannelBase
from .http import HttpRefused, HttpUnreachable, outbound_url, request


class WebhookSettings(Schema):
    url = fields.Str(required=True, validate=outbound_url)
    secret = fields.Str(required=True, validate=validate.Length(
        min=16, error="use a secret of at least 16 characters"))
    #: event keys this endpoint receives; "*" for all
    events = fields.List(fields.Str(validate=validate.Length(min=1)), load_default=lambda: ["*"],
                         validate=validate.Length(min=1))
    timeout = fields.Int(load_default=10, validate=validate.Range(1, 60))
    verify_tls = fields.Bool(load_default=True)


def wants(settings: dict, event_key: str) -> bool:
    """Does this endpoint subscribe to ``event_key``? (``"*"``, exact, or ``"billing.*"``)."""
    for pattern in settings.get("events") or ["*"]:
        if pattern == "*" or pattern == event_key or (
                pattern.endswith(".*") and event_key.startswith(pattern[:-1])):
            return True
    return False


class WebhookChannel(ChannelBase):
    key = "webhook"
    label = "Webhook (signed JSON)"
    medium = "webhook"
    settings_schema = WebhookSettings
    secret_fields = ("secret",)

    def deliver(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        body = message.body_text.encode()
        headers = {"Content-Type": "application/json",
                   signing.HEADER: signing.header_value(settings["secret"], body, int(time.time())),
                   "X-Backhaul-Event": message.subject,
                   "X-Backhaul-Delivery": message.idempotency_key or "test", **message.headers}
        try:
            answer = request("POST", settings["url"], body, headers, settings["timeout"],
                             settings.get("verify_tls", True))
        except HttpRefused as exc:
            return DeliveryResult(False, None, f"refused: {exc}", retryable=False)
        except HttpUnreachable as exc:
            return DeliveryResult(False, None, f"no answer from the endpoint: {exc}")
        if answer.ok:
            return DeliveryResult(True, None, f"HTTP {answer.status}")
        return DeliveryResult(False, None, f"HTTP {answer.status}")  # never the body (SSRF)

    def send_test(self, settings: dict, to: str = "") -> DeliveryResult:
        payload = json.dumps({"id": "test", "event": "notifications.ping",
                              "created_at": utcnow().isoformat(), "data": {}})
        return self.send(OutboundMessage(to=(settings["url"],), subject="notifications.ping",
                                         body_text=payload), settings)
