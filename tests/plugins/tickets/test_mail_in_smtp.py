"""Real SMTP delivery (smtplib) into the mail-in listener running in the test: a new mail
opens a ticket in the group of the address it was sent to, a reply threads into it, an
auto-reply threads but is never answered; the outgoing relay (a real aiosmtpd server) shows
what was answered."""
from __future__ import annotations

import smtplib

import pytest
from tickets_helpers import BILLING, mail, send, tickets, wait_for

from backhaul.sdk import db


def test_new_mail_opens_a_ticket_in_the_right_group_and_is_acknowledged(
        app, listener, tenant, email_channel, relay, desk):
    support, billing = desk
    account, contact = tenant
    send(listener.port, mail("Invoice looks wrong", to=BILLING))
    [ticket] = wait_for(tickets)
    assert ticket.group_id == billing.id and ticket.status == "new"
    assert (ticket.account_id, ticket.contact_id) == (account.id, contact.id)
    assert ticket.inbound_address.address == BILLING
    assert ticket.messages[0].kind == "inbound"
    assert ticket.messages[0].body_text == "Since this morning."
    [ack] = relay.wait_for(1)
    assert ack.rcpt_tos == ["tina@example.net"]
    assert ack.message["From"].addresses[0].addr_spec == BILLING  # answered from billing@
    assert f"[#{ticket.token}]" in ack.message["Subject"]
    assert ack.message["In-Reply-To"] == ticket.messages[0].message_id
    assert ack.message["Auto-Submitted"] == "auto-replied"


def test_a_reply_threads_by_in_reply_to_and_by_the_token(app, listener, tenant, email_channel,
                                                        relay, desk):
    first = mail("No internet", Message_ID="<first@example.net>")
    send(listener.port, first)
    [ticket] = wait_for(tickets)
    assert ticket.group.name == "Support"
    relay.wait_for(1)

    again = mail("Re: No internet", body="Still down.", In_Reply_To="<first@example.net>")
    send(listener.port, again)
    assert wait_for(lambda: len(tickets()[0].messages) == 2)
    by_token = mail(f"Anything new? [#{ticket.token}]", body="Hello?")
    send(listener.port, by_token)
    assert wait_for(lambda: len(tickets()[0].messages) == 3)
    assert len(tickets()) == 1
    relay.wait_for(2, timeout=1)
    assert len(relay.inbox) == 1  # only the new ticket was acknowledged


@pytest.mark.parametrize("header,value", [("Auto-Submitted", "auto-replied"),
                                          ("Precedence", "bulk"), ("X-Autoreply", "yes")])
def test_an_auto_reply_is_kept_but_never_answered(app, listener, tenant, email_channel, relay,
                                                  desk, header, value):
    auto = mail("Out of office", body="I am away until Monday.")
    auto[header] = value
    send(listener.port, auto)
    [ticket] = wait_for(tickets)
    assert ticket.messages[0].automatic
    human = mail("Re: Out of office", body="Back now", In_Reply_To=str(auto["Message-ID"]))
    send(listener.port, human)
    assert wait_for(lambda: len(tickets()[0].messages) == 2)
    relay.wait_for(1, timeout=1.5)
    assert relay.inbox == []  # nothing was sent to an auto-responder
    from backhaul.plugins.tickets.models import InboundMail

    assert "not answered" in db.session.query(InboundMail).order_by(InboundMail.id).first().detail


def test_the_listener_refuses_unknown_recipients_and_oversized_mail(app, desk, make_app):
    from backhaul.plugins.tickets.listener import MailListener
    from backhaul.sdk.testing import free_port

    running = MailListener(app, port=free_port()).start()
    running.max_bytes = 20_000
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(running.port, mail(to="nobody@isp.example.net"))
        assert refused.value.recipients["nobody@isp.example.net"][0] == 550
    finally:
        running.stop()
    small = MailListener(app, port=free_port())
    small.max_bytes = 20_000
    small.start()
    try:
        with pytest.raises(smtplib.SMTPException) as too_big:
            send(small.port, mail(body="x" * 50_000))
        assert "552" in str(too_big.value) or getattr(too_big.value, "smtp_code", 0) == 552
    finally:
        small.stop()
    assert wait_for(tickets, timeout=0.3) == []


def test_nothing_accepted_is_lost_when_handling_fails(app, listener, tenant, monkeypatch):
    """A bug while handling keeps the raw mail as ``failed`` (250: it is ours now, staff can
    release it); a database that cannot store even that answers 451, so the sending MTA
    keeps the message and retries."""
    from backhaul.plugins.tickets import mailin
    from backhaul.plugins.tickets.models import InboundMail

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(mailin, "ingest", broken)
    msg = mail("Kept whatever happens")
    send(listener.port, msg)
    [row] = wait_for(lambda: db.session.query(InboundMail).all())
    assert row.outcome == "failed" and "RuntimeError: a bug" in row.detail
    assert b"Subject: Kept whatever happens" in row.raw

    monkeypatch.setattr(mailin, "record", broken)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(listener.port, mail("Try me later"))
    assert refused.value.smtp_code == 451
    monkeypatch.undo()
    from backhaul.plugins.tickets.mailin import release

    release(row)
    db.session.commit()
    assert [t.subject for t in tickets()] == ["Kept whatever happens"]
