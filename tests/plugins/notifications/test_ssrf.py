"""Channel URLs cannot reach the ISP's own network (issue 11, finding 9).

Real HTTP servers on loopback addresses play the internal services; the operator's
allow-list is the only way to reach them, every redirect hop is checked, and what an
endpoint answers is never echoed back to staff.
"""
from __future__ import annotations

import http.server
import threading

import pytest

from backhaul.plugins.notifications.channels.http import HttpRefused, check_destination
from backhaul.plugins.notifications.channels.webhook import WebhookChannel
from backhaul.sdk import OutboundMessage


class Server:
    """Answers every POST with ``status`` (and ``location``), counting the hits."""

    def __init__(self, host: str, status: int = 200, location: str = "",
                 body: bytes = b"INTERNAL-SECRET-42"):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                outer.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made = []

    def make(*args, **kwargs):
        made.append(Server(*args, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def send(url: str, allow: str | None = None):
    """Send through a webhook saved while ``url`` was allowed (the allow-list may change)."""
    import os

    channel = WebhookChannel()
    previous = os.environ.get("BACKHAUL_OUTBOUND_ALLOW")
    os.environ["BACKHAUL_OUTBOUND_ALLOW"] = "127.0.0.0/8"
    try:
        settings = channel.validate_settings({"url": url, "secret": "s" * 32, "timeout": 5})
    finally:
        if previous is None:
            del os.environ["BACKHAUL_OUTBOUND_ALLOW"]
        else:
            os.environ["BACKHAUL_OUTBOUND_ALLOW"] = previous
    return channel.send(OutboundMessage(to=(url,), subject="t", body_text="{}",
                                        idempotency_key="k"), settings)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://169.254.169.254/latest/",
                                 "http://10.1.2.3/x", "http://192.168.0.1/", "http://[::1]:9/",
                                 "http://100.64.0.1/", "http://localhost:9/"])
def test_non_public_addresses_are_refused(url, monkeypatch):
    monkeypatch.delenv("BACKHAUL_OUTBOUND_ALLOW", raising=False)
    with pytest.raises(HttpRefused):
        check_destination(url)


def test_saving_a_channel_with_an_internal_url_is_a_field_error(monkeypatch):
    from marshmallow import ValidationError

    monkeypatch.delenv("BACKHAUL_OUTBOUND_ALLOW", raising=False)
    with pytest.raises(ValidationError) as refused:
        WebhookChannel().validate_settings({"url": "http://169.254.169.254/latest/meta-data",
                                            "secret": "s" * 32})
    assert "url" in refused.value.messages


def test_loopback_endpoint_is_not_reached_without_the_allow_list(servers, monkeypatch):
    monkeypatch.delenv("BACKHAUL_OUTBOUND_ALLOW", raising=False)
    internal = servers("127.0.0.1")
    result = send(internal.url)
    assert not result.ok and not result.retryable and "not a public address" in result.message
    assert internal.hits == 0


def test_every_redirect_hop_is_checked(servers, monkeypatch):
    internal = servers("127.0.0.1")
    front = servers("127.0.0.2", status=302, location=internal.url)
    monkeypatch.setenv("BACKHAUL_OUTBOUND_ALLOW", "127.0.0.2/32")  # only the first hop
    result = send(front.url)
    assert front.hits == 1 and internal.hits == 0
    assert not result.ok and "127.0.0.1" in result.message


def test_bodies_are_never_echoed(servers, monkeypatch):
    monkeypatch.setenv("BACKHAUL_OUTBOUND_ALLOW", "127.0.0.1/32")
    endpoint = servers("127.0.0.1", status=500)
    result = send(endpoint.url)
    assert endpoint.hits == 1 and not result.ok
    assert "INTERNAL-SECRET" not in result.message and "500" in result.message
