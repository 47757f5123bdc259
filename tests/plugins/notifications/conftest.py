"""Notifications tests: the core plugins plus notifications and an in-test "invoices" plugin.

Real peers: an aiosmtpd SMTP server and ``http.server`` receivers on loopback (webhooks, an
SMS gateway). Retries are immediate (``retry_base_seconds=0``) unless a test says otherwise.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from notif_helpers import (
    SETTINGS,
    TEST_EVENT_TYPES,
    HttpReceiver,
    SmtpServer,
    smtp_settings,
)

from backhaul.sdk.testing import free_port


@pytest.fixture
def notif_app_factory(make_app, temp_plugin):
    """``factory(config=None, **plugin_settings)`` -> an app with notifications and the
    in-test event types (``config``: app settings such as ``REDIS_URL``)."""
    def factory(config=None, **settings):
        plugin = temp_plugin("testinvoices", notification_event_types=lambda: TEST_EVENT_TYPES)
        return make_app(plugins=["notifications"], extra_plugins=[plugin],
                        plugin_settings={"notifications": {**SETTINGS, **settings}},
                        **(config or {}))

    return factory


def pytest_configure(config):
    config.addinivalue_line("markers", "notif_settings(**settings): notifications plugin "
                                       "settings for the `app` fixture of this test")


@pytest.fixture
def app(notif_app_factory, request):
    marker = request.node.get_closest_marker("notif_settings")
    application = notif_app_factory(**(marker.kwargs if marker else {}))
    with application.app_context():
        yield application


# ------------------------------------------------------------------------------ SMTP
@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A port with no SMTP server yet (``.start()`` brings it up)."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


# ------------------------------------------------------------------------------ HTTP
@pytest.fixture
def http_receiver(monkeypatch) -> Iterator[HttpReceiver]:
    # outside an app (the contract tests) the allow-list comes from the environment
    monkeypatch.setenv("BACKHAUL_OUTBOUND_ALLOW", "127.0.0.1/32")
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


# ------------------------------------------------------------------------------ data
@pytest.fixture
def email_channel(app):
    """``email_channel(port, **settings)`` -> the default e-mail ChannelConfig (committed)."""
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk import db

    def make(port: int, **extra):
        row = save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                          "settings": smtp_settings(port, **extra)})
        db.session.commit()
        return row

    return make


@pytest.fixture
def household(app):
    """An account with a tenant (primary) and a landlord (financial, no service e-mails)."""
    from backhaul.sdk import db
    from backhaul.sdk.accounts import add_contact, create_account

    account = create_account(name="Flat 4, Maple Court")
    tenant = add_contact(account, {"name": "Tina Tenant", "email": "tenant@example.net",
                                   "phone": "+1 415 555 2671", "is_primary": True})
    landlord = add_contact(account, {"name": "Larry Landlord", "email": "landlord@example.net",
                                     "is_financial": True,
                                     "preferences": {"service": {"email": False}}})
    db.session.commit()
    return account, tenant, landlord
