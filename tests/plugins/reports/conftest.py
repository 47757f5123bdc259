"""Reports tests: billing (invoices to hide or show), notifications (the e-mail) and reports.

Real peers: PostgreSQL (the suite's database), an aiosmtpd relay for the scheduled e-mail,
headless Chromium for the pages.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from notif_helpers import SmtpServer, smtp_settings

from backhaul.sdk.testing import free_port

@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "notifications", "reports"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}},
                           TIMEZONE="Europe/Berlin")
    with application.app_context():
        yield application


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def email_channel(app, relay):
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.sdk import db

    row = save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                      "settings": smtp_settings(relay.port)})
    db.session.commit()
    return row


@pytest.fixture
def invoices(app):
    """Three accounts billed for March 2026: three finalized invoices (INV-000001..3)."""
    from backhaul.plugins.billing import catalogue, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account

    fiber = catalogue.create_service("Fiber 100", "recurring", "50.00", currency="USD")
    accounts = []
    for name in ("=HYPERLINK(\"http://evil.example\")", "Bea Baker", "Carl Cooper"):
        account = create_account(name=name)
        subs.subscribe(account.id, service=fiber, start_date=date(2026, 3, 1))
        accounts.append(account)
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    return accounts


@pytest.fixture
def people(app, staff_user):
    """An office manager who may see invoices, and a clerk who may not."""
    office = staff_user(["reports.view", "reports.manage", "billing.invoice.view",
                         "accounts.account.view"], name="Olga Office")
    clerk = staff_user(["reports.view", "reports.manage", "accounts.account.view"],
                       name="Carl Clerk")
    return office, clerk
