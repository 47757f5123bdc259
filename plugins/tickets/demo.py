"""Demo data for ``backhaul demo load``: a Support and a Billing group, their inbound
addresses, two canned replies, and a ticket from the first two demo tenants (one answered).
Idempotent and demo-only: it touches only accounts numbered ``DEMO-*`` and creates each
record once (by name, address or the ticket's subject per account)."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.accounts import Account

from . import canned, config, desk
from .models import CannedReply, Category, Group, InboundAddress, Ticket

CANNED = {
    "Outage acknowledged": "Hello {{ contact.name }},\n\nthank you for telling us. We know of "
                           "an outage near {{ account.address }} and are working on it; "
                           "we will write again when service is back.\n\n{{ staff.name }}",
    "Invoice explained": "Hello {{ contact.name }},\n\nabout account {{ account.number }}: "
                         "your invoice covers the month ahead plus any one-time "
                         "charges.\n\n{{ staff.name }}",
}
TICKETS = ("No connection since this morning", "Question about my invoice")


def _named(model, name, make):
    return db.session.scalar(sa.select(model).where(model.name == name)) or make(name)


def load_demo() -> None:
    support = _named(Group, "Support", config.save_group)
    billing = _named(Group, "Billing", config.save_group)
    outage = _named(Category, "Outage", config.save_category)
    invoice = _named(Category, "Invoice question", config.save_category)
    for address, group, category in (("support@isp.example.net", support, outage),
                                     ("billing@isp.example.net", billing, invoice)):
        if db.session.scalar(sa.select(InboundAddress.id).where(
                InboundAddress.address == address)) is None:
            config.save_inbound_address({"address": address, "name": f"{group.name} team",
                                         "groupId": group.id, "categoryId": category.id})
    for name, body in CANNED.items():
        if db.session.scalar(sa.select(CannedReply.id).where(CannedReply.name == name)) is None:
            canned.save({"name": name, "body": body})
    accounts = db.session.scalars(sa.select(Account).where(Account.number.like("DEMO-%"))
                                  .order_by(Account.number).limit(2)).all()
    for account, subject, group in zip(accounts, TICKETS, (support, billing), strict=False):
        if db.session.scalar(sa.select(Ticket.id).where(Ticket.account_id == account.id,
                                                        Ticket.subject == subject)):
            continue
        ticket = desk.open_ticket({"subject": subject, "groupId": group.id,
                                   "accountId": account.id,
                                   "body": "Called the office; asked us to follow up."})
        if group is billing:
            desk.add_note(ticket, "Checked the ledger: the invoice is right.")
    db.session.commit()
