"""Channel settings are validated when saved; SMS through an HTTP gateway; "send test"."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from notif_helpers import save, smtp_settings

from backhaul.plugins.notifications import signing
from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.channel_store import ChannelInvalid, save_channel, send_test
from backhaul.plugins.notifications.models import Message
from backhaul.sdk import db
from backhaul.sdk.accounts import update_contact

JSON_BODY = '{"to": {{ to|tojson }}, "from": {{ sender|tojson }}, "text": {{ text|tojson }}}'


def sms_gateway(url: str, **extra):
    settings = {"url": url, "auth": "bearer", "token": "tok-123", "sender": "TestISP",
                "body_template": JSON_BODY, "id_path": "messages.0.id", **extra}
    row = save_channel("sms_http", {"name": "SMS", "is_default": True, "settings": settings})
    db.session.commit()
    return row


@pytest.mark.parametrize("settings, field, text", [
    ({"port": 70000}, "port", "less than or equal to 65535"),
    ({"from_address": "not-an-address"}, "from_address", "email"),
    ({"security": "ssl3"}, "security", "Must be one of"),
    ({"username": "joe"}, "password", "both a username and a password"),
    ({"reply_to": "nope"}, "reply_to", "email"),
])
def test_smtp_settings_are_validated_when_saved(app, settings, field, text):
    with pytest.raises(ChannelInvalid) as err:
        save_channel("email_smtp", {"name": "Mail", "settings": {**smtp_settings(25), **settings}})
    messages = err.value.errors["settings"][field]
    assert any(text.lower() in m.lower() for m in messages), messages


def test_sms_body_template_errors_carry_their_line(app):
    with pytest.raises(ChannelInvalid) as err:
        sms_gateway("https://sms.example.net/send", body_template='{"to": {{ to }},\n"x": {{ txt }}}')
    assert err.value.errors["settings"]["body_template"] == [
        "body_template, line 2: unknown variable 'txt' (see the variables available for this "
        "event)"]
    with pytest.raises(ChannelInvalid) as err:
        sms_gateway("https://sms.example.net/send", body_template="{{ to }\n")
    assert "line 1" in err.value.errors["settings"]["body_template"][0]
    with pytest.raises(ChannelInvalid) as err:
        sms_gateway("https://sms.example.net/send", auth="basic", username="u")
    assert "username and a password" in err.value.errors["settings"]["username"][0]


def test_secrets_are_kept_when_left_blank_on_edit(app):
    row = sms_gateway("https://sms.example.net/send")
    data = {"name": "SMS", "is_default": True, "settings": {
        "url": "https://sms2.example.net/send", "auth": "bearer", "token": "",
        "body_template": JSON_BODY}}
    save_channel("sms_http", data, row)
    assert row.settings["token"] == "tok-123" and row.settings["url"].startswith("https://sms2")


def test_sms_through_an_http_gateway(app, http_receiver, household):
    account, tenant, _ = household
    update_contact(tenant, {"preferences": {"outages": {"sms": True}}})
    http_receiver.body = b'{"messages": [{"id": "gw-991", "status": "queued"}]}'
    sms_gateway(http_receiver.url)
    save("testinvoices.outage", "sms", body_text="{{ company.name }}: outage {{ outage.when }}.")
    ids = notify("testinvoices.outage", account.id, {"outage": {"when": "Tue 02:00"}})
    db.session.commit()

    assert len(ids) == 1  # the landlord has no phone
    [request] = http_receiver.requests
    assert request["headers"]["Authorization"] == "Bearer tok-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {"to": "+14155552671", "from": "TestISP",
                                           "text": "Test ISP: outage Tue 02:00."}
    message = db.session.get(Message, ids[0])
    assert (message.status, message.provider_id, message.recipient) == \
        ("sent", "gw-991", "+14155552671")


def test_sms_gateway_get_with_a_form_query_and_error_classes(app, http_receiver, household):
    account, tenant, _ = household
    sms_gateway(http_receiver.url, method="GET", auth="header", header_name="X-Key",
                content_type="application/x-www-form-urlencoded", id_path="",
                body_template="to={{ to|urlencode }}&msg={{ text|urlencode }}")
    save("testinvoices.password_changed", "sms", body_text="Password changed & OK?")
    http_receiver.statuses = [429, 400]
    [first] = notify("testinvoices.password_changed", account.id, {})
    db.session.commit()
    message = db.session.get(Message, first)
    # 429 is retried; the 400 that follows is a permanent refusal
    assert message.status == "failed" and message.attempts == 2
    assert "HTTP 400" in message.last_error
    request = http_receiver.requests[0]
    assert request["method"] == "GET" and request["headers"]["X-Key"] == "tok-123"
    query = parse_qs(urlsplit(request["path"]).query)
    assert query == {"to": ["+14155552671"], "msg": ["Password changed & OK?"]}


def test_send_test_uses_the_saved_settings(app, smtp_server, http_receiver):
    row = save_channel("email_smtp", {"name": "Mail", "settings": smtp_settings(smtp_server.port)})
    result = send_test(row, "staff@example.net")
    assert result.ok and result.provider_id
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["staff@example.net"]
    assert smtp_server.inbox[0].message["Subject"] == "Backhaul test message"

    hook = save_channel("webhook", {"name": "Hook", "settings": {
        "url": http_receiver.url, "secret": "0123456789abcdef0123"}})
    assert send_test(hook, "").ok
    request = http_receiver.requests[0]
    assert signing.verify("0123456789abcdef0123", request["headers"]["X-Backhaul-Signature"],
                          request["body"])
    assert http_receiver.json(0)["event"] == "notifications.ping"

    down = save_channel("email_smtp", {"name": "Down", "settings": smtp_settings(1)})
    failed = send_test(down, "staff@example.net")
    assert not failed.ok and "cannot reach 127.0.0.1:1" in failed.message
