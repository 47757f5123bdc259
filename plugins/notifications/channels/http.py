"""A small HTTP client (standard library only) shared by the SMS gateway and webhooks.

Returns the status for every HTTP answer (2xx or not) and raises :class:`HttpUnreachable`
only when there was no answer at all (DNS, refused connection, timeout, TLS failure).
"""
from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass

from marshmallow import ValidationError, validate

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Backhaul-Notifications/1"

_url = validate.URL(schemes={"http", "https"}, require_tld=False,
                    error="must be an http:// or https:// URL")


def http_url(value: str) -> None:
    """marshmallow validator: an absolute http(s) URL (webhooks, SMS gateways)."""
    _url(value)
    if not value.lower().startswith(("http://", "https://")):
        raise ValidationError("must be an http:// or https:// URL")


class HttpUnreachable(Exception):
    """No HTTP answer at all."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", errors="replace")


def request(method: str, url: str, body: bytes | None, headers: dict, timeout: float,
            verify_tls: bool = True) -> HttpAnswer:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"User-Agent": USER_AGENT, **headers})
    context = ssl.create_default_context()
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return HttpAnswer(resp.status, resp.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(exc.code, exc.read(MAX_RESPONSE_BYTES) if exc.fp else b"")
    except (TimeoutError, urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HttpUnreachable(f"{type(exc).__name__}: {reason}") from None
