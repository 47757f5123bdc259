"""The tickets tests' app: notifications (its e-mail channel carries replies) and tickets.

Real peers: the mail-in listener (aiosmtpd) on a free port, fed by ``smtplib``; an aiosmtpd
server standing in for the ISP's outgoing SMTP relay (what the notifications channel sends
to).
"""
from __future__ import annotations

import pytest
from notif_helpers import SmtpServer, email_channel, relay, smtp_settings  # noqa: F401 (shared fixtures)

from backhaul.sdk.testing import free_port

NOTIFICATION_SETTINGS = {"retry_base_seconds": 0, "public_url": "http://bh.test",
                         "company_name": "Test ISP"}


def pytest_configure(config):
    config.addinivalue_line("markers", "tickets_settings(**settings): tickets plugin "
                                       "settings for the `app` fixture of this test")
    config.addinivalue_line("markers", "with_redis: the app sends jobs to Redis (a real RQ "
                                       "worker runs them)")


@pytest.fixture
def app(make_app, request):
    marker = request.node.get_closest_marker("tickets_settings")
    config = ({"redis_url": request.getfixturevalue("redis_url")}
              if request.node.get_closest_marker("with_redis") else {})
    application = make_app(plugins=["notifications", "tickets"], **config, plugin_settings={
        "notifications": NOTIFICATION_SETTINGS, "tickets": dict(marker.kwargs if marker else {})})
    with application.app_context():
        yield application


@pytest.fixture
def desk(app):
    from tickets_helpers import make_desk

    return make_desk()


@pytest.fixture
def listener(app, desk):
    """``backhaul mail-in``'s listener, running in this test on a free high port."""
    from backhaul.plugins.tickets.listener import MailListener

    running = MailListener(app, host="127.0.0.1", port=free_port()).start()
    yield running
    running.stop()


@pytest.fixture
def tenant(app):
    from backhaul.sdk import db
    from backhaul.sdk.accounts import add_contact, create_account

    account = create_account(name="Flat 4, Maple Court")
    contact = add_contact(account, {"name": "Tina Tenant", "email": "tina@example.net",
                                    "is_primary": True})
    db.session.commit()
    return account, contact
