"""Outbound webhooks to a real HTTP receiver on loopback: signature, retries, the log."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.core.jobs import sweep
from backhaul.plugins.notifications import signing
from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.channel_store import ChannelInvalid, save_channel
from backhaul.plugins.notifications.delivery import backoff
from backhaul.plugins.notifications.models import DeliveryLog, Message
from backhaul.sdk import Money, db

SECRET = "whsec_test_0123456789abcdef"
INVOICE = {"invoice": {"number": "INV-7", "total": Money(4999, "USD"),
                       "due_date": date(2026, 12, 15)}}


def endpoint(url: str, events=("*",), **extra):
    row = save_channel("webhook", {"name": f"Hook {url}", "settings": {
        "url": url, "secret": SECRET, "events": list(events), **extra}})
    db.session.commit()
    return row


def test_receiver_verifies_the_signed_json_payload(app, http_receiver, household):
    account, _, _ = household
    hook = endpoint(http_receiver.url, events=["testinvoices.*"])
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE, dedupe_key="i7")
    db.session.commit()

    assert len(http_receiver.requests) == 1
    request = http_receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["method"] == "POST" and headers["content-type"] == "application/json"
    assert signing.verify(SECRET, headers["x-backhaul-signature"], request["body"])
    assert not signing.verify(SECRET, headers["x-backhaul-signature"], request["body"] + b"x")
    assert headers["x-backhaul-event"] == "testinvoices.invoice_due"
    payload = http_receiver.json(0)
    assert headers["x-backhaul-delivery"] == payload["id"]
    assert payload["event"] == "testinvoices.invoice_due"
    assert payload["account"] == {"id": account.id, "number": account.number}
    assert payload["data"]["invoice"] == {
        "number": "INV-7", "due_date": "2026-12-15",
        "total": {"amount": 4999, "currency": "USD", "formatted": "49.99 USD"}}
    message = db.session.get(Message, message_id)
    assert (message.status, message.channel_id, message.recipient) == \
        ("sent", hook.id, http_receiver.url)


def test_two_500s_then_200_is_one_success_after_two_logged_retries(app, http_receiver,
                                                                   household):
    account, _, _ = household
    http_receiver.statuses = [500, 500]
    hook = endpoint(http_receiver.url)
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE)
    db.session.commit()  # backoff 0 in tests: the retries follow at once

    assert len(http_receiver.requests) == 3
    assert all(signing.verify(SECRET, r["headers"]["X-Backhaul-Signature"], r["body"])
               for r in http_receiver.requests)
    assert len({r["headers"]["X-Backhaul-Delivery"] for r in http_receiver.requests}) == 1
    message = db.session.get(Message, message_id)
    assert message.status == "sent" and message.attempts == 3
    log = db.session.execute(sa.select(DeliveryLog.event, DeliveryLog.attempt, DeliveryLog.detail)
                             .where(DeliveryLog.channel_id == hook.id)
                             .order_by(DeliveryLog.id)).all()
    assert [(e, a) for e, a, _ in log] == [("queued", 0), ("retry", 1), ("retry", 2), ("sent", 3)]
    assert "HTTP 500" in log[1].detail and "HTTP 500" in log[2].detail
    assert log[3].detail == "HTTP 200"
    sweep()
    assert len(http_receiver.requests) == 3  # the success is final


@pytest.mark.notif_settings(retry_base_seconds=30, retry_max_seconds=300)
def test_backoff_is_exponential_and_capped(app, http_receiver, household):
    assert [backoff(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    account, _, _ = household
    http_receiver.statuses = [503]
    endpoint(http_receiver.url)
    [message_id] = notify("testinvoices.invoice_due", account.id, INVOICE)
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.status == "queued" and message.attempts == 1
    delay = message.next_attempt_at - message.updated_at
    assert timedelta(seconds=29) < delay <= timedelta(seconds=31)
    assert sweep() == 0 and len(http_receiver.requests) == 1


def test_endpoints_only_get_the_events_they_subscribe_to(app, http_receiver, household):
    account, _, _ = household
    endpoint(http_receiver.url, events=["billing.*", "testinvoices.outage"])
    assert notify("testinvoices.invoice_due", account.id, INVOICE) == []
    assert len(notify("testinvoices.outage", account.id, {"outage": {"when": "now"}})) == 1
    db.session.commit()
    assert [http_receiver.json(0)["event"]] == ["testinvoices.outage"]


@pytest.mark.parametrize("url", ["ftp://example.net/hook", "javascript:alert(1)", "/relative",
                                 "file:///etc/passwd", "example.net/hook"])
def test_a_webhook_url_must_be_http_or_https(app, url):
    with pytest.raises(ChannelInvalid) as err:
        endpoint(url)
    assert err.value.errors == {"settings": {"url": ["must be an http:// or https:// URL"]}}


def test_a_short_secret_is_refused(app):
    with pytest.raises(ChannelInvalid) as err:
        save_channel("webhook", {"name": "h", "settings": {"url": "https://example.net/h",
                                                           "secret": "short"}})
    assert "at least 16 characters" in str(err.value.errors["settings"]["secret"])
