"""The three channels honour the SDK's NotificationChannel contract against real peers."""
from __future__ import annotations

import pytest
from notif_helpers import smtp_settings

from backhaul.plugins.notifications.channels.email_smtp import SmtpEmailChannel
from backhaul.plugins.notifications.channels.sms_http import HttpSmsChannel
from backhaul.plugins.notifications.channels.webhook import WebhookChannel
from backhaul.sdk.testing.contracts import NotificationChannelContract


class TestSmtpEmailChannel(NotificationChannelContract):
    invalid_settings = [{"host": "x"}, {**smtp_settings(25), "security": "ssl"},
                        {**smtp_settings(25), "from_address": "nobody"}]

    @pytest.fixture
    def channel(self, smtp_server):
        channel = SmtpEmailChannel()
        channel.inbox = smtp_server
        return channel

    @pytest.fixture
    def settings(self, smtp_server):
        return smtp_settings(smtp_server.port)

    def delivered(self, channel):
        return len(channel.inbox.inbox)


class TestWebhookChannel(NotificationChannelContract):
    invalid_settings = [{"url": "ftp://x.net/", "secret": "0123456789abcdef"},
                        {"url": "https://x.net/", "secret": "short"}]

    @pytest.fixture
    def channel(self, http_receiver):
        channel = WebhookChannel()
        channel.receiver = http_receiver
        return channel

    @pytest.fixture
    def settings(self, http_receiver):
        return {"url": http_receiver.url, "secret": "0123456789abcdef"}

    def delivered(self, channel):
        return len(channel.receiver.requests)


class TestHttpSmsChannel(NotificationChannelContract):
    recipient = "+14155552671"
    invalid_settings = [{"url": "https://sms.example.net", "body_template": "{{ nope }}"},
                        {"url": "https://sms.example.net", "body_template": "x", "auth": "bearer"}]

    @pytest.fixture
    def channel(self, http_receiver):
        channel = HttpSmsChannel()
        channel.receiver = http_receiver
        return channel

    @pytest.fixture
    def settings(self, http_receiver):
        return {"url": http_receiver.url, "body_template": '{"to": {{ to|tojson }}, '
                                                           '"text": {{ text|tojson }}}'}

    def delivered(self, channel):
        return len(channel.receiver.requests)
