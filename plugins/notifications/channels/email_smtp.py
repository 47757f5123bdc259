"""Email over SMTP: plain, STARTTLS or implicit TLS; optional login; HTML with a text part.

``send`` returns a :class:`DeliveryResult` for every outcome it understands: a server that
cannot be reached, a 4xx reply or a dropped connection are *retryable*; a 5xx refusal of the
recipient is not. The Message-ID is chosen before the first attempt (``headers``) so that
every retry carries the same one and receivers can recognise a duplicate.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import DeliveryResult, OutboundMessage, utcnow

from . import ChannelBase


class SmtpSettings(Schema):
    host = fields.Str(required=True, validate=validate.Length(min=1, max=253))
    port = fields.Int(load_default=587, validate=validate.Range(1, 65535))
    security = fields.Str(load_default="starttls",
                          validate=validate.OneOf(("none", "starttls", "tls")))
    username = fields.Str(load_default="")
    password = fields.Str(load_default="")
    from_address = fields.Email(required=True)
    from_name = fields.Str(load_default="")
    reply_to = fields.Str(load_default="", validate=lambda v: not v or validate.Email()(v))
    timeout = fields.Int(load_default=20, validate=validate.Range(1, 300))
    verify_tls = fields.Bool(load_default=True)

    @validates_schema
    def _check(self, data, **kwargs):
        if bool(data.get("username")) != bool(data.get("password")):
            raise ValidationError("give both a username and a password, or neither",
                                  "password" if data.get("username") else "username")


class SmtpEmailChannel(ChannelBase):
    key = "email_smtp"
    label = "Email (SMTP)"
    medium = "email"
    settings_schema = SmtpSettings
    secret_fields = ("password",)

    def build(self, message: OutboundMessage, settings: dict) -> EmailMessage:
        """The MIME message: text, optional HTML alternative, then attachments."""
        mail = EmailMessage()
        # a sender may speak for another of the ISP's addresses (a ticket answered from the
        # address it came in on): its From header replaces the channel's
        mail["From"] = message.headers.get("From") or formataddr(
            (settings.get("from_name") or "", settings["from_address"]))
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(utcnow())
        if settings.get("reply_to"):
            mail["Reply-To"] = settings["reply_to"]
        domain = settings["from_address"].rpartition("@")[2]
        mail["Message-ID"] = message.headers.get("Message-ID") or make_msgid("bh", domain)
        for name, value in message.headers.items():
            if name.lower() not in ("message-id", "from"):
                del mail[name]  # a sender's Reply-To replaces the channel's
                mail[name] = value
        mail.set_content(message.body_text)
        if message.body_html:
            mail.add_alternative(message.body_html, subtype="html")
        for filename, content, mime in message.attachments:
            maintype, _, subtype = (mime or "application/octet-stream").partition("/")
            mail.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                                filename=filename)
        return mail

    def _connect(self, settings: dict) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if not settings.get("verify_tls", True):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        host, port, timeout = settings["host"], settings["port"], settings["timeout"]
        if settings["security"] == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
            if settings["security"] == "starttls":
                server.starttls(context=context)
        if settings.get("username"):
            server.login(settings["username"], settings["password"])
        return server

    def deliver(self, message: OutboundMessage, settings: dict) -> DeliveryResult:
        mail = self.build(message, settings)
        message_id = mail["Message-ID"]
        try:
            server = self._connect(settings)
            try:
                server.send_message(mail, from_addr=settings["from_address"],
                                    to_addrs=list(message.to))
            finally:
                try:
                    server.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}"
                               for rcpt, (code, msg) in exc.recipients.items())
            return DeliveryResult(False, message_id, f"recipient refused: {detail}",
                                  retryable=any(400 <= c < 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            permanent = 500 <= exc.smtp_code < 600 and not isinstance(
                exc, smtplib.SMTPAuthenticationError)
            return DeliveryResult(False, message_id, f"SMTP {exc.smtp_code}: {text}",
                                  retryable=not permanent)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            return DeliveryResult(False, message_id,
                                  f"cannot reach {settings['host']}:{settings['port']}: "
                                  f"{type(exc).__name__}: {exc}", retryable=True)
        return DeliveryResult(True, message_id, "accepted by the SMTP server")
