"""A small HTTP client (standard library only) shared by the SMS gateway and webhooks.

Returns the status for every HTTP answer (2xx or not) and raises :class:`HttpUnreachable`
only when there was no answer at all (DNS, refused connection, timeout, TLS failure).

Staff type these URLs, so the client must not become a way into the ISP's own network
(issue 11, finding 9): every address a URL resolves to must be a public one — loopback,
link-local (cloud metadata at 169.254.169.254), private, shared (100.64/10), multicast and
reserved ranges are refused unless the operator's allow-list names them
(``[plugins.notifications] outbound_allow = ["10.0.0.5/32", "sms.internal"]``, or
``BACKHAUL_OUTBOUND_ALLOW`` outside an app) — and redirects are followed by hand, each hop
checked the same way, at most :data:`MAX_REDIRECTS`. Response bodies are never shown to
staff: a delivery's message carries the status only.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

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


def outbound_url(value: str) -> None:
    """marshmallow validator for URLs Backhaul will call (gateways, webhooks): http_url, and
    a destination the allow-list permits — a field error when the channel is saved."""
    http_url(value)
    try:
        check_destination(value)
    except HttpRefused as exc:
        raise ValidationError(str(exc)) from None


class HttpUnreachable(Exception):
    """No HTTP answer at all."""


class HttpRefused(HttpUnreachable):
    """A URL (or a redirect) pointing where Backhaul may not send requests."""


MAX_REDIRECTS = 3


def allow_list() -> list[str]:
    """The operator's allowed non-public hosts and networks."""
    from flask import has_app_context

    if has_app_context():
        from backhaul.sdk import current_plugin_settings

        return list(current_plugin_settings("notifications").get("outbound_allow") or [])
    raw = os.environ.get("BACKHAUL_OUTBOUND_ALLOW", "")
    return [item.strip() for item in raw.split(",") if item.strip()]


def _allowed(host: str, address: str, allowed: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    for entry in allowed:
        if entry.lower() == host.lower():
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_destination(url: str, allowed: list[str] | None = None) -> None:
    """Refuse (:class:`HttpRefused`) a URL whose host resolves to a non-public address that
    the allow-list does not name. A host that does not resolve passes: the request fails."""
    allowed = allow_list() if allowed is None else allowed
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpRefused("only http:// and https:// URLs with a host are allowed")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        address = info[4][0].split("%")[0]
        ip = ipaddress.ip_address(address)
        public = ip.is_global and not ip.is_multicast
        if not public and not _allowed(parts.hostname, address, allowed):
            raise HttpRefused(f"{parts.hostname} resolves to {address}, which is not a public "
                              "address: ask the operator to add it to outbound_allow")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_destination(urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


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
    check_destination(url)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         _CheckedRedirects())
    try:
        with opener.open(req, timeout=timeout) as resp:
            return HttpAnswer(resp.status, resp.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpAnswer(exc.code, exc.read(MAX_RESPONSE_BYTES) if exc.fp else b"")
    except HttpRefused:
        raise
    except (TimeoutError, urllib.error.URLError, OSError, ValueError) as exc:
        if isinstance(getattr(exc, "reason", None), HttpRefused):
            raise exc.reason from None
        reason = getattr(exc, "reason", exc)
        raise HttpUnreachable(f"{type(exc).__name__}: {reason}") from None
