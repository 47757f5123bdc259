"""Reports tests: billing (invoices to hide or show), notifications (the e-mail) and reports.

Real peers: PostgreSQL (the suite's database), an aiosmtpd relay for the scheduled e-mail,
headless Chromium for the pages.
"""
from __future__ import annotations

import pytest
from notif_helpers import SmtpServer, email_channel, relay, smtp_settings  # noqa: F401 (shared fixtures)


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "notifications", "reports"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}},
                           TIMEZONE="Europe/Berlin")
    with application.app_context():
        yield application


@pytest.fixture
def invoices(app):
    """Three accounts billed for March 2026: three finalized invoices (INV-000001..3)."""
    from reports_helpers import make_invoices

    return make_invoices()


@pytest.fixture
def people(app, staff_user):
    """An office manager who may see invoices, and a clerk who may not."""
    office = staff_user(["reports.view", "reports.manage", "billing.invoice.view",
                         "accounts.account.view"], name="Olga Office")
    clerk = staff_user(["reports.view", "reports.manage", "accounts.account.view"],
                       name="Carl Clerk")
    return office, clerk
