"""Webhooks tests: billing (invoices, payments), network + poller (device events), tickets,
notifications (the webhook channel) and webhooks; a real HTTP receiver on loopback."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from notif_helpers import HttpReceiver


@pytest.fixture
def app(make_app):
    application = make_app(
        plugins=["billing", "notifications", "network", "poller", "tickets", "webhooks"],
        plugin_settings={"notifications": {"retry_base_seconds": 0,
                                           "outbound_allow": ["127.0.0.1/32"]}})
    with application.app_context():
        yield application


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()
