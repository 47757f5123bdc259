"""SMS through a generic HTTP gateway: URL, method, authentication and a body template.

Most providers take one HTTP request per message; what differs is the field names and the
encoding, so staff describe the request instead of us writing code per provider. The body
template is Jinja (sandboxed) with ``to``, ``sender`` and ``text``; for example::

    JSON:  {"to": {{ to|tojson }}, "from": {{ sender|tojson }}, "text": {{ text|tojson }}}
    form:  To={{ to|urlencode }}&From={{ sender|urlencode }}&Body={{ text|urlencode }}

With ``GET`` the rendered body becomes the query string. A 2xx answer is success; 408, 429,
5xx and no answer are retried; any other 4xx is a permanent refusal.
"""
from __future__ import annotations

import base64
import json

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import DeliveryResult, OutboundMessage

from .. import templates
from ..api import Variable
from . import ChannelBase
from .http import HttpRefused, HttpUnreachable, outbound_url, request

BODY_VARIABLES = (Variable("to", "recipient phone number", "+15550100"),
                  Variable("sender", "the sender setting", "Backhaul"),
                  Variable("text", "the message text", 'Your "invoice" is due & payable'))
CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")


class SmsSettings(Schema):
    url = fields.Str(required=True, validate=outbound_url)
    method = fields.Str(load_default="POST", validate=validate.OneOf(("GET", "POST", "PUT")))
    auth = fields.Str(load_default="none",
                      validate=validate.OneOf(("none", "basic", "bearer", "header")))
    username = fields.Str(load_default="")
    password = fields.Str(load_default="")
    token = fields.Str(load_default="")
    header_name = fields.Str(load_default="X-API-Key")
    sender = fields.Str(load_default="")
    content_type = fields.Str(load_default="application/json",
                              validate=validate.OneOf(CONTENT_TYPES))
    body_template = fields.Str(required=True, validate=validate.Length(min=1))
    #: dotted path of the provider's message id in a JSON answer ("messages.0.id"), optional
    id_path = fields.Str(load_default="")
    timeout = fields.Int(load_default=15, validate=validate.Range(1, 120))
    verify_tls = fields.Bool(load_default=True)

    @validates_schema
    def _check(self, data, **kwargs):
        auth = data.get("auth", "none")
        if auth == "basic" and not (data.get("username") and data.get("password")):
            raise ValidationError("basic authentication needs a username and a password",
                                  "username")
        if auth in ("bearer", "header") and not data.get("token"):
            raise ValidationError(f"{auth} authentication needs a token", "token")
        try:
            templates.validate(data.get("body_template", ""), BODY_VARIABLES, "body_template")
        except templates.TemplateProblem as exc:
            raise ValidationError(str(exc), "body_template") from None


def _dig(data, path: str):
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


class HttpSmsChannel(ChannelBase):
    key = "sms_http"
    label = "SMS (HTTP gateway)"
    medium = "sms"
    settings_schema = SmsSettings
    secret_fields = ("password", "token")

    def _headers(self, settings: dict) -> dict:
        auth = settings.get("auth", "none")
        if auth == "basic":
            raw = f"{settings['username']}:{settings['password']}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if auth == "bearer":
            return {"Authorization": f"Bearer {settings['token']}"}
        if auth == "header":
            return {settings["header_name"]: settings["token"]}
        return {}

    def deliver(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        rendered = templates.render(settings["body_template"], {
            "to": message.to[0], "sender": settings.get("sender", ""),
            "text": message.body_text}, "body_template")
        url, body = settings["url"], rendered.encode()
        headers = self._headers(settings)
        if settings["method"] == "GET":
            url, body = url + ("&" if "?" in url else "?") + rendered.strip(), None
        else:
            headers["Content-Type"] = settings["content_type"]
        try:
            answer = request(settings["method"], url, body, headers, settings["timeout"],
                             settings.get("verify_tls", True))
        except HttpRefused as exc:
            return DeliveryResult(False, None, f"refused: {exc}", retryable=False)
        except HttpUnreachable as exc:
            return DeliveryResult(False, None, f"no answer from the SMS gateway: {exc}")
        if not answer.ok:
            retryable = answer.status in (408, 429) or answer.status >= 500
            return DeliveryResult(False, None, f"gateway answered HTTP {answer.status}",
                                  retryable=retryable)  # (its body is never shown: SSRF)
        provider_id = None
        if settings.get("id_path"):
            try:
                found = _dig(json.loads(answer.body), settings["id_path"])
                provider_id = None if found is None else str(found)
            except ValueError:
                pass
        return DeliveryResult(True, provider_id, f"HTTP {answer.status}")
