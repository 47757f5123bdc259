"""Shared data of the notifications tests (in-test event types, settings, small helpers)."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from backhaul.plugins.notifications.api import EventType, Variable
from backhaul.sdk import Money

INVOICE_DUE = EventType(
    "testinvoices.invoice_due", "Invoice due", category="billing",
    variables=(Variable("invoice.number", "Invoice number", "INV-0001"),
               Variable("invoice.total", "Amount due", Money(1000, "USD")),
               Variable("invoice.due_date", "Due date", date(2026, 1, 31))),
    sample=lambda account_id: {"invoice": {"number": f"INV-{account_id:04d}",
                                           "total": Money(4999, "USD"),
                                           "due_date": date(2026, 12, 15)}})
OUTAGE = EventType("testinvoices.outage", "Planned outage", category="outages",
                   variables=(Variable("outage.when", "When", "Tuesday 2am"),))
SECURITY = EventType("testinvoices.password_changed", "Password changed", category="security",
                     essential=True)
SUSPENDED = EventType("testinvoices.suspended", "Suspended", category="billing",
                      essential=True)
TEST_EVENT_TYPES = [INVOICE_DUE, OUTAGE, SECURITY, SUSPENDED]

SETTINGS = {"retry_base_seconds": 0, "public_url": "http://bh.test", "company_name": "Test ISP",
            # the test receivers listen on loopback: the operator allows it explicitly
            "outbound_allow": ["127.0.0.1/32"]}


def smtp_settings(port: int, **extra) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none",
            "from_address": "billing@isp.example.net", "from_name": "Test ISP",
            "reply_to": "support@isp.example.net", "timeout": 5, **extra}


def save(event_key: str, medium: str, **content):
    from backhaul.plugins.notifications.authoring import save_template
    from backhaul.sdk import db

    row = save_template(event_key, medium, content)
    db.session.commit()
    return row




# ------------------------------------------------------------------------------ peers
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return message_from_bytes(self.data, policy=policy.default)


class SmtpHandler:
    def __init__(self, inbox: list[Received]):
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.inbox.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                   envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that can be stopped and started again."""

    port: int
    inbox: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(SmtpHandler(self.inbox), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.inbox) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.inbox


@dataclass
class HttpReceiver:
    """A loopback HTTP server answering with scripted statuses; records every request."""

    statuses: list[int] = field(default_factory=list)
    body: bytes = b'{"ok": true}'
    requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                receiver.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": raw})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_POST = do_GET = do_PUT = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def json(self, i: int) -> dict:
        return json.loads(self.requests[i]["body"])


@pytest.fixture
def relay():
    """A real SMTP relay (aiosmtpd) on a free loopback port; mail lands in ``relay.inbox``.
    Other plugins' tests import this fixture and :func:`email_channel` into their conftest."""
    from backhaul.sdk.testing import free_port

    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def email_channel(app, relay):
    """The default e-mail channel, delivering to :func:`relay` (committed)."""
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk import db

    row = save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                      "settings": smtp_settings(relay.port)})
    db.session.commit()
    return row
