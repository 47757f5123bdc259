"""The inbound SMTP listener (aiosmtpd): ``backhaul mail-in`` or ``backhaul serve
tickets.mail_in``.

Put it behind the ISP's MTA (Postfix ``transport_maps``: ``support@isp.example
smtp:[127.0.0.1]:2525``) or expose it directly. It accepts mail only for the configured
inbound addresses (550 for any other recipient), refuses messages over
``max_message_bytes`` (552, the sender's MTA bounces them with a clear reason), and answers
250 only once the message is committed — a database that cannot be reached gives a 451, so
the sending MTA keeps the message and tries again: nothing accepted is ever lost.
"""
from __future__ import annotations

import logging
import threading

import click
import sqlalchemy as sa

from backhaul.sdk import Service, current_plugin_settings, db

from .models import InboundAddress

log = logging.getLogger("backhaul.tickets")
MAX_RECIPIENTS = 50


class MailHandler:
    """aiosmtpd handler; every database step runs in an app context of ``app``."""

    def __init__(self, app):
        self.app = app
        self.accepted = 0
        self.refused = 0
        self.lock = threading.Lock()

    def _known(self, address: str) -> bool:
        with self.app.app_context():
            try:
                return db.session.scalar(sa.select(InboundAddress.id).where(
                    InboundAddress.address == address.strip().lower())) is not None
            finally:
                db.session.remove()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            known = self._known(address)
        except Exception:  # noqa: BLE001  the database is away: ask the sender to retry
            log.exception("mail-in: cannot check recipient %s", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            self.refused += 1
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            with self.lock:  # one unit of work at a time: SQLite has one writer
                self.store(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        except Exception:  # noqa: BLE001
            log.exception("mail-in: could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        self.accepted += 1
        return "250 2.0.0 Message accepted"

    def store(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        from .mailin import ingest, record

        with self.app.app_context():
            try:
                try:
                    ingest(raw, mail_from, rcpt_tos)
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001  keep the raw mail, say why
                    db.session.rollback()
                    log.exception("mail-in: a message could not be handled; kept as failed")
                    record(raw, mail_from.lower(), rcpt_tos, "failed",
                           f"could not be handled: {type(exc).__name__}: {exc}")
                    db.session.commit()
            finally:
                db.session.remove()


class MailListener:
    """The listener around one app: ``start()``, ``stop()``; used by the CLI, the service and
    tests (``MailListener(app, port=free_port()).start()``)."""

    def __init__(self, app, host: str | None = None, port: int | None = None):
        with app.app_context():
            settings = current_plugin_settings("tickets")
        self.host = host or settings.get("smtp_host", "127.0.0.1")
        self.port = port or settings.get("smtp_port", 2525)
        self.max_bytes = settings.get("max_message_bytes", 10_000_000)
        self.handler = MailHandler(app)
        self.controller = None

    def start(self) -> MailListener:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     data_size_limit=self.max_bytes,
                                     ident="Backhaul mail-in", server_hostname=self.host)
        self.controller.start()
        log.info("mail-in listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def health(self) -> dict:
        return {"listening": f"{self.host}:{self.port}", "accepted": self.handler.accepted,
                "refused_recipients": self.handler.refused}


class MailInService(Service):
    name = "tickets.mail_in"
    label = "Inbound mail (SMTP)"
    heartbeat_seconds = 10

    def __init__(self):
        self.listener: MailListener | None = None

    def run(self, stop, shard):
        from flask import current_app

        self.listener = MailListener(current_app._get_current_object()).start()
        try:
            stop.wait()
        finally:
            self.listener.stop()

    def health(self):
        return self.listener.health() if self.listener else {"listening": None}


@click.command("mail-in")
@click.option("--host", default=None, help="address to listen on (setting smtp_host, "
                                           "default 127.0.0.1)")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="port to listen on (setting smtp_port, default 2525)")
def mail_in_command(host, port):
    """Receive support mail over SMTP and turn it into tickets (Ctrl-C or SIGTERM stops)."""
    import signal

    from flask import current_app

    listener = MailListener(current_app._get_current_object(), host, port).start()
    click.echo(f"mail-in: listening on {listener.host}:{listener.port} "
               f"(messages up to {listener.max_bytes:,} bytes)")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        listener.stop()
        click.echo(f"mail-in: stopped ({listener.handler.accepted} accepted)")
