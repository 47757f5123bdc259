"""``api.send_email``: a message someone wrote (a ticket reply) through the default e-mail
channel, with the sender's From and Reply-To replacing the channel's (one header each),
threading headers kept, idempotent per dedupe key, and ``None`` with no channel."""
from __future__ import annotations

from backhaul.plugins.notifications.api import check_template, render_template, send_email
from backhaul.plugins.notifications.models import Message
from backhaul.sdk import db


def test_a_written_message_goes_out_from_the_given_address(app, smtp_server, email_channel,
                                                           household):
    account, tenant, _ = household
    email_channel(smtp_server.port)  # channel From billing@, Reply-To support@
    first = send_email("tenant@example.net", "Re: No internet [#TK-ABCDEF]", "On it.\n",
                       account_id=account.id, contact_id=tenant.id,
                       from_address="help@isp.example.net", from_name="Help desk",
                       headers={"In-Reply-To": "<q@example.net>", "Reply-To":
                                "help@isp.example.net", "Message-ID": "<r1@isp.example.net>"},
                       source="tickets.reply", dedupe_key="reply:1")
    again = send_email("tenant@example.net", "x", "y", source="tickets.reply",
                       dedupe_key="reply:1")
    db.session.commit()
    assert first == again and db.session.query(Message).count() == 1
    [received] = smtp_server.wait_for(1)
    mail = received.message
    assert received.mail_from == "billing@isp.example.net"  # the channel's envelope sender
    assert mail.get_all("From") == ["Help desk <help@isp.example.net>"]
    assert mail.get_all("Reply-To") == ["help@isp.example.net"]
    assert mail["In-Reply-To"] == "<q@example.net>"
    assert mail["Message-ID"] == "<r1@isp.example.net>"
    assert mail.get_content().strip() == "On it."
    row = db.session.get(Message, first)
    assert (row.event_key, row.account_id, row.status) == ("tickets.reply", account.id, "sent")


def test_no_channel_means_none(app):
    assert send_email("a@example.net", "s", "b") is None


def test_templates_for_other_plugins_are_checked_and_bounded(app):
    import pytest

    from backhaul.plugins.notifications.api import TemplateInvalid, Variable

    variables = [Variable("ticket.token", "t", "TK-1")]
    assert check_template("Ticket {{ ticket.token }}", variables) == "Ticket TK-1"
    with pytest.raises(TemplateInvalid, match="unknown variable 'ticket.nope'"):
        check_template("{{ ticket.nope }}", variables)
    with pytest.raises(TemplateInvalid, match="at most 1,000 items"):
        render_template("{% for i in range(100000) %}{% endfor %}", {})
    assert render_template("{{ t.token }}", {"t": {"token": "TK-2"}}) == "TK-2"
