"""Delivery mechanics: rate limits, a lost worker, cancel, broken channels, caller safety."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from notif_helpers import save

from backhaul.core.models import JobIntent
from backhaul.plugins.notifications import delivery
from backhaul.plugins.notifications.api import EventType, notify
from backhaul.plugins.notifications.channel_store import save_channel
from backhaul.plugins.notifications.models import DeliveryLog, Message
from backhaul.sdk import Money, db, utcnow


def hook(url: str, rate: int = 0):
    row = save_channel("webhook", {"name": "Hook", "rate_limit_per_minute": rate,
                                   "settings": {"url": url, "secret": "0123456789abcdef"}})
    db.session.commit()
    return row


def test_rate_limit_defers_without_using_an_attempt(app, http_receiver, household):
    account, _, _ = household
    hook(http_receiver.url, rate=2)
    ids = [notify("testinvoices.outage", account.id, {"outage": {"when": str(i)}})[0]
           for i in range(3)]
    db.session.commit()
    assert len(http_receiver.requests) == 2
    third = db.session.get(Message, ids[2])
    assert (third.status, third.attempts) == ("queued", 0)
    deferred = db.session.scalar(sa.select(JobIntent).where(JobIntent.key.like(
        f"notifications.deliver:{third.id}:1:rl%")))
    wait = deferred.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < wait <= timedelta(seconds=61)
    assert delivery.deliver(third.id) == "rate limited"  # still inside the minute


def test_a_message_left_sending_by_a_dead_worker_is_sent_again(app, http_receiver, household):
    account, _, _ = household
    hook(http_receiver.url)
    http_receiver.statuses = [500] * 10
    [mid] = notify("testinvoices.outage", account.id, {"outage": {"when": "x"}})
    db.session.commit()
    http_receiver.statuses = []
    message = db.session.get(Message, mid)
    assert message.status == "failed"
    message.status, message.claimed_at = "sending", utcnow() - timedelta(minutes=30)
    db.session.commit()
    assert delivery.recover_stale() == 1
    db.session.expire_all()
    message = db.session.get(Message, mid)
    assert message.status == "sent"
    details = db.session.scalars(sa.select(DeliveryLog.detail).where(
        DeliveryLog.message_id == mid, DeliveryLog.event == "retry")).all()
    assert "worker lost" in details[-1]


def test_cancel_and_a_disabled_channel(app, http_receiver, household):
    account, _, _ = household
    row = hook(http_receiver.url)
    row.enabled = False
    db.session.commit()
    assert notify("testinvoices.outage", account.id, {"outage": {"when": "x"}}) == []
    row.enabled = True
    db.session.commit()
    [mid] = notify("testinvoices.outage", account.id, {"outage": {"when": "x"}})
    row.enabled = False  # disabled after queueing: retried, then failed with the reason
    db.session.commit()
    message = db.session.get(Message, mid)
    assert message.status == "failed" and "channel 'Hook' is disabled" in message.last_error
    assert http_receiver.requests == []
    assert not delivery.cancel(message)
    message.status = "queued"
    assert delivery.cancel(message)
    db.session.commit()
    assert delivery.deliver(mid) == "not queued"


def test_a_caller_with_missing_variables_gets_a_failed_message_not_an_exception(
        app, smtp_server, email_channel, household):
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.invoice_due", "email", subject="Inv {{ invoice.number }}",
         body_text="{{ invoice.total }}")
    [mid] = notify("testinvoices.invoice_due", account.id, {"invoice": {"number": "1"}})
    db.session.commit()
    message = db.session.get(Message, mid)
    assert message.status == "failed"
    assert message.last_error.startswith("template: body_text, line 1:")
    assert "total" in message.last_error
    assert smtp_server.inbox == []


def test_unknown_event_and_missing_plugin(app, household):
    account, _, _ = household
    with pytest.raises(LookupError, match="unknown notification event type 'nope.event'"):
        notify("nope.event", account.id, {})


def test_notify_is_a_no_op_without_the_plugin(make_app):
    application = make_app(plugins=[])
    with application.app_context():
        assert notify("testinvoices.outage", 1, {}) == []


def test_duplicate_event_types_are_ignored_and_logged(make_app, temp_plugin, caplog):
    dupe = temp_plugin("dupes", notification_event_types=lambda: [
        EventType("accounts.created", "Mine"), EventType("dupes.fine", "Fine")])
    application = make_app(plugins=["notifications"], extra_plugins=[dupe])
    with application.app_context(), caplog.at_level(logging.ERROR):
        from backhaul.plugins.notifications import catalogue

        types = catalogue.event_types()
    assert types["accounts.created"].label == "Account created (welcome)"
    assert "dupes.fine" in types
    assert "plugin 'dupes': event type 'accounts.created' is already declared by " \
           "'notifications'" in caplog.text


def test_new_accounts_get_the_welcome_message_once(app, smtp_server, email_channel):
    from backhaul.sdk.accounts import add_contact, create_account

    email_channel(smtp_server.port)
    save("accounts.created", "email", subject="Welcome to {{ company.name }}",
         body_text="Hello {{ account.name }}, your account is {{ account.number }}.")
    account = create_account(name="New Customer")
    add_contact(account, {"name": "New", "email": "new@example.net"})
    db.session.commit()
    [received] = smtp_server.wait_for(1)
    assert received.message["Subject"] == "Welcome to Test ISP"
    assert f"your account is {account.number}." in received.message.get_content()


def test_event_type_validation():
    with pytest.raises(ValueError, match="category 'money'"):
        EventType("x.y", "X", category="money")
    with pytest.raises(ValueError, match="must be essential"):
        EventType("x.y", "X", category="security")
    with pytest.raises(ValueError, match="'<plugin>.<event>'"):
        EventType("xy", "X")


def test_money_and_dates_reach_templates_unchanged(app, smtp_server, email_channel, household):
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.invoice_due", "email", subject="x",
         body_text="{{ invoice.total.amount }} {{ invoice.due_date|date('%d/%m/%Y') }}")
    notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "1", "total": Money(123456, "EUR"), "due_date": date(2026, 3, 9)}})
    db.session.commit()
    [received] = smtp_server.wait_for(1)
    assert received.message.get_content().startswith("123456 09/03/2026")


def test_a_rolled_back_caller_sends_nothing(app, http_receiver, household):
    account, _, _ = household
    hook(http_receiver.url)
    assert len(notify("testinvoices.outage", account.id, {"outage": {"when": "x"}})) == 1
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
    assert http_receiver.requests == []


def test_a_concurrent_duplicate_leaves_the_callers_transaction_intact(app, household):
    from backhaul.plugins.notifications.messages import _queue
    from backhaul.sdk.accounts import create_account

    account, _, _ = household
    row = hook("https://example.net/hook")
    row.enabled = False  # nothing is sent in this test
    db.session.commit()

    def message():
        return Message(idempotency_key="same-key", event_key="x.y", category="service",
                       account_id=account.id, channel_id=row.id, medium="webhook",
                       recipient="https://example.net/hook", status="cancelled", headers={})

    assert _queue(message(), (), "first") is not None
    other = create_account(name="Caller's own work")
    assert _queue(message(), (), "second") is None  # the unique key refused it
    db.session.commit()
    assert db.session.get(type(other), other.id) is not None
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1


def test_demo_data_is_idempotent(app):
    from backhaul.plugins.notifications.demo import load
    from backhaul.plugins.notifications.models import ChannelConfig, MessageTemplate

    load()
    db.session.commit()
    load()
    db.session.commit()
    assert db.session.query(ChannelConfig).count() == 1
    assert db.session.query(MessageTemplate).count() == 3
    assert not db.session.query(ChannelConfig).one().enabled


def test_status_changes_map_to_suspended_restored_or_changed(app):
    from backhaul.plugins.notifications.events import status_event

    assert status_event(None, "active", "created") is None
    assert status_event("active", "suspended", "delinquency") == (
        "accounts.suspended", {"status": {"old": "Active", "new": "Suspended",
                                          "reason": "delinquency"}})
    assert status_event("active", "delinquent", "x")[0] == "accounts.suspended"
    assert status_event("suspended", "delinquent", "x")[0] == "accounts.status_changed"
    assert status_event("delinquent", "active", "payment")[0] == "accounts.restored"
    assert status_event("active", "moved_out", "move_out")[0] == "accounts.status_changed"
    assert status_event("gone", "active", "x")[1]["status"]["old"] == "gone"
