"""Shared set-up of the tickets tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa

from backhaul.sdk import db

SUPPORT, BILLING = "support@isp.example.net", "billing@isp.example.net"


def make_desk():
    """Groups Support and Billing, each fed by its address; a canned reply."""
    from backhaul.plugins.tickets import canned, config

    support = config.save_group("Support")
    billing = config.save_group("Billing")
    outage = config.save_category("Outage")
    config.save_inbound_address({"address": SUPPORT, "name": "Support team",
                                 "groupId": support.id, "categoryId": outage.id})
    config.save_inbound_address({"address": BILLING, "name": "Billing team",
                                 "groupId": billing.id})
    canned.save({"name": "Outage known", "body": "Hello {{ contact.name }},\n"
                 "ticket {{ ticket.token }} for account {{ account.number }}: we are on it."})
    db.session.commit()
    return support, billing


def mail(subject="No internet", body="Since this morning.", sender="tina@example.net",
         to=SUPPORT, **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Tina Tenant <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.net")
    for name, value in headers.items():
        name = name.replace("_", "-")
        del msg[name]
        msg[name] = value
    msg.set_content(body)
    return msg


def send(port: int, msg: EmailMessage, mail_from: str | None = None,
         to: list[str] | None = None) -> None:
    """Deliver over real SMTP (smtplib) into the listener."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.send_message(msg, from_addr=mail_from if mail_from is not None else
                            msg["From"].addresses[0].addr_spec,
                            to_addrs=to or [msg["To"].addresses[0].addr_spec])


def wait_for(predicate, timeout: float = 10.0):
    """Poll (ending the test thread's transaction each time to see the listener's commits)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def tickets():
    from backhaul.plugins.tickets.models import Ticket

    return db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
