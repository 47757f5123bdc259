"""Billing with the notifications plugin: the "invoice issued" e-mail reaches the financial
contact over real SMTP (aiosmtpd), with the invoice's PDF attached; printed-delivery accounts
get no e-mail. Templates use billing's declared variables."""
from __future__ import annotations

import io
import time
from datetime import date
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from backhaul.plugins.billing import accounts, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.sdk.testing import free_port


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"




@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def test_invoice_email_with_pdf_attachment(billing_app, request, db, smtp):
    from backhaul.plugins.notifications.authoring import save_template
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk.accounts import add_contact, create_account

    port, inbox = smtp
    app = billing_app(plugins=("billing", "notifications"))
    with app.app_context():
        shop = request.getfixturevalue("shop")
        save_channel("email_smtp", {"name": "Mail", "is_default": True, "settings": {
            "host": "127.0.0.1", "port": port, "security": "none", "timeout": 5,
            "from_address": "billing@isp.example.net", "from_name": "Test ISP"}})
        save_template("billing.invoice_issued", "email", {
            "subject": "Invoice {{ invoice.number }}",
            "body_text": "Your invoice {{ invoice.number }} of {{ invoice.total }} is due on "
                         "{{ invoice.due_date }}."})
        emailed = create_account(name="Flat 1")
        add_contact(emailed, {"name": "Pat Payer", "email": "pat@example.net",
                              "is_primary": True, "is_financial": True})
        printed = create_account(name="Flat 2")
        add_contact(printed, {"name": "Paula Paper", "email": "paula@example.net",
                              "is_primary": True, "is_financial": True})
        for acct in (emailed, printed):
            subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
        accounts.update(printed.id, delivery="printed")
        db.session.commit()

        run.run_billing(date(2026, 3, 1))

        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(inbox.messages) == 1, inbox.messages
        [(rcpt, message)] = inbox.messages
        assert rcpt == ["pat@example.net"]
        assert message["Subject"] == "Invoice INV-000001"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert body.startswith("Your invoice INV-000001 of 55.00 USD is due on 2026-03-15.")
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == "INV-000001.pdf"
        pdf = PdfReader(io.BytesIO(attachment.get_content()))
        assert "Invoice INV-000001" in pdf.pages[0].extract_text()

        # a payment notifies too; without a template for it nothing is queued, and
        # recording the payment is not disturbed
        from backhaul.plugins.billing import ledger

        ledger.record_payment(emailed.id, "55.00", method="bank_transfer")
        db.session.commit()
        assert accounts.balance(emailed.id).amount == 0


def test_invoices_are_emailed_by_default(billing_app, request, db, smtp):
    """No template saved: the invoice e-mail that ships with billing is used."""
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk.accounts import add_contact, create_account

    port, inbox = smtp
    app = billing_app(plugins=("billing", "notifications"), company_name="Maple Fibre Co-op")
    with app.app_context():
        shop = request.getfixturevalue("shop")
        save_channel("email_smtp", {"name": "Mail", "is_default": True, "settings": {
            "host": "127.0.0.1", "port": port, "security": "none", "timeout": 5,
            "from_address": "billing@isp.example.net", "from_name": "Test ISP"}})
        acct = create_account(name="Flat 1")
        add_contact(acct, {"name": "Pat Payer", "email": "pat@example.net",
                           "is_primary": True, "is_financial": True})
        subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
        db.session.commit()
        run.run_billing(date(2026, 3, 1))
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [(rcpt, message)] = inbox.messages
        assert rcpt == ["pat@example.net"]
        assert message["Subject"].startswith("Invoice INV-000001 from")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Hello Pat Payer" in body and "Amount due: 55.00 USD" in body
        assert "Please quote INV-000001" in body
        assert [a.get_filename() for a in message.iter_attachments()] == ["INV-000001.pdf"]


def test_template_page_starts_from_the_shipped_invoice_email(billing_app, staff_user, login):
    app = billing_app(plugins=("billing", "notifications"))
    with app.app_context():
        client = app.test_client()
        login(client, staff_user(["notifications.templates.view"]))
        page = client.get("/notifications/templates/billing.invoice_issued/email")
        assert page.status_code == 200
        assert "Please quote {{ invoice.number }}" in page.get_data(as_text=True)
