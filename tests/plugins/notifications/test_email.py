"""E-mail over a real SMTP server (aiosmtpd on loopback): content, recipients, retries."""
from __future__ import annotations

import time
from datetime import date

import pytest
import sqlalchemy as sa
from notif_helpers import save

from backhaul.core.jobs import sweep
from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.delivery import deliver
from backhaul.plugins.notifications.models import DeliveryLog, Message
from backhaul.sdk import Money, db
from backhaul.sdk.accounts import set_status

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
INVOICE = {"invoice": {"number": "INV-0042", "total": Money(4999, "USD"),
                       "due_date": date(2026, 12, 15)}}


def invoice_template():
    save("testinvoices.invoice_due", "email",
         subject="Invoice {{ invoice.number }} from {{ company.name }}",
         body_text="Dear {{ contact.name }},\nYour invoice {{ invoice.number }} of "
                   "{{ invoice.total }} is due on {{ invoice.due_date }}.",
         body_html="<p>Dear {{ contact.name }},</p><p>Invoice <b>{{ invoice.number }}</b>: "
                   "{{ invoice.total }}</p>")


def log_events(message_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(DeliveryLog.event).where(
        DeliveryLog.message_id == message_id).order_by(DeliveryLog.id)))


def test_invoice_mail_with_pdf_goes_to_the_financial_contact_only(
        app, smtp_server, email_channel, household):
    account, tenant, landlord = household
    email_channel(smtp_server.port)
    invoice_template()
    ids = notify("testinvoices.invoice_due", account.id, INVOICE,
                 attachments=[("INV-0042.pdf", PDF, "application/pdf")], dedupe_key="invoice:42")
    db.session.commit()

    assert len(ids) == 1
    inbox = smtp_server.wait_for(1)
    assert len(inbox) == 1
    received = inbox[0]
    assert received.rcpt_tos == ["landlord@example.net"]
    assert received.mail_from == "billing@isp.example.net"
    mail = received.message
    assert mail["To"] == "landlord@example.net"
    assert mail["Subject"] == "Invoice INV-0042 from Test ISP"
    assert mail["Reply-To"] == "support@isp.example.net"
    assert "Test ISP" in mail["From"]
    assert mail.get_content_type() == "multipart/mixed"
    text = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Dear Larry Landlord,\nYour invoice INV-0042 of 49.99 USD is due on 2026-12-15." in text
    assert "<b>INV-0042</b>" in html
    attachments = list(mail.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == \
        [("INV-0042.pdf", "application/pdf")]
    assert attachments[0].get_content() == PDF
    # billing is not essential: an unsubscribe link in the body and in the headers
    assert "Unsubscribe: http://bh.test/notifications/unsubscribe/" in text
    assert mail["List-Unsubscribe"].startswith("<http://bh.test/notifications/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    message = db.session.get(Message, ids[0])
    assert message.status == "sent" and message.attempts == 1
    assert message.provider_id == mail["Message-ID"]  # the Message-ID is recorded
    assert message.contact_id == landlord.id
    assert log_events(message.id) == ["queued", "sent"]

    # the same invoice notified again (a retried billing job): nothing new is queued
    assert notify("testinvoices.invoice_due", account.id, INVOICE,
                  dedupe_key="invoice:42") == []
    db.session.commit()
    assert len(smtp_server.wait_for(2, timeout=0.3)) == 1


def test_service_mail_goes_to_the_tenant_who_wants_it(app, smtp_server, email_channel,
                                                      household):
    account, tenant, landlord = household  # the landlord opted out of service e-mails
    email_channel(smtp_server.port)
    save("accounts.status_changed", "email", subject="Your account is now {{ status.new }}",
         body_text="Hello {{ contact.name }}, account {{ account.number }} changed from "
                   "{{ status.old }} to {{ status.new }}.")
    set_status(account, "inactive", reason="manual")
    db.session.commit()

    inbox = smtp_server.wait_for(1)
    assert [r.rcpt_tos for r in inbox] == [["tenant@example.net"]]
    mail = inbox[0].message
    assert mail["Subject"] == "Your account is now Inactive"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"Hello Tina Tenant, account {account.number} changed from Active to Inactive." in body
    assert mail.get_content_type() == "text/plain"  # no HTML template: no alternative


@pytest.mark.notif_settings(retry_base_seconds=1)
def test_smtp_down_then_up_delivers_exactly_once(app, smtp_down, email_channel, household):
    account, _, _ = household
    email_channel(smtp_down.port)
    invoice_template()
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE, dedupe_key="inv:1")
    db.session.commit()  # the first attempt runs after commit: the server is down

    message = db.session.get(Message, message_id)
    assert message.status == "queued" and message.attempts == 1
    assert "cannot reach 127.0.0.1" in message.last_error
    assert log_events(message_id) == ["queued", "retry"]
    assert sweep() == 0  # not due yet: backoff

    smtp_down.start()
    time.sleep(1.1)
    assert sweep() == 1
    inbox = smtp_down.wait_for(1)
    assert len(inbox) == 1 and inbox[0].rcpt_tos == ["landlord@example.net"]
    db.session.expire_all()
    message = db.session.get(Message, message_id)
    assert message.status == "sent" and message.attempts == 2
    assert log_events(message_id) == ["queued", "retry", "sent"]

    # nothing can send it again: a late duplicate job, a sweep, a retry request
    assert deliver(message_id) == "not queued"
    time.sleep(0.2)
    sweep()
    assert len(smtp_down.wait_for(2, timeout=0.5)) == 1


@pytest.mark.redis
def test_smtp_down_then_up_with_redis_and_an_rq_worker(notif_app_factory, redis_url, rq_burst,
                                                       smtp_down):
    from notif_helpers import smtp_settings

    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk.accounts import add_contact, create_account

    app = notif_app_factory(config={"redis_url": redis_url}, retry_base_seconds=1)
    with app.app_context():
        save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                    "settings": smtp_settings(smtp_down.port)})
        account = create_account(name="Queue Test")
        add_contact(account, {"name": "Fay", "email": "fay@example.net", "is_financial": True})
        db.session.commit()
        invoice_template()
        [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE)
        db.session.commit()  # pushed to Redis, not run here
        assert db.session.get(Message, message_id).attempts == 0

        rq_burst(app, ["notifications"])  # attempt 1: refused
        db.session.commit()  # end this snapshot: see the worker's writes (SQLite WAL)
        assert db.session.get(Message, message_id).status == "queued"
        smtp_down.start()
        time.sleep(1.1)
        assert sweep() == 1  # the delayed retry is due: pushed to Redis
        rq_burst(app, ["notifications"])
        db.session.commit()  # end this snapshot: see the worker's writes (SQLite WAL)
        message = db.session.get(Message, message_id)
        assert message.status == "sent" and message.attempts == 2
        assert log_events(message_id) == ["queued", "retry", "sent"]
        assert len(smtp_down.wait_for(1)) == 1
        rq_burst(app, ["notifications"])
        sweep()
        assert len(smtp_down.wait_for(2, timeout=0.5)) == 1


def test_a_refused_recipient_fails_at_once_with_the_reason(app, smtp_server, email_channel):
    from backhaul.sdk.accounts import add_contact, create_account

    email_channel(smtp_server.port)
    account = create_account(name="Bounce")
    add_contact(account, {"name": "Gone", "email": "bounce@example.net", "is_financial": True})
    db.session.commit()
    invoice_template()
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE)
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.status == "failed" and message.attempts == 1
    assert "550" in message.last_error and "no such user" in message.last_error
    assert log_events(message_id) == ["queued", "failed"]
    assert smtp_server.inbox == []


@pytest.mark.notif_settings(max_attempts=3)
def test_unreachable_server_gives_up_after_max_attempts(app, smtp_down, email_channel,
                                                        household):
    account, _, _ = household
    email_channel(smtp_down.port)
    invoice_template()
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE)
    db.session.commit()  # backoff 0: the three attempts run one after the other
    message = db.session.get(Message, message_id)
    assert message.status == "failed" and message.attempts == 3
    assert log_events(message_id) == ["queued", "retry", "retry", "failed"]
    assert "gave up after 3 attempts" in db.session.scalar(
        sa.select(DeliveryLog.detail).where(DeliveryLog.event == "failed"))
