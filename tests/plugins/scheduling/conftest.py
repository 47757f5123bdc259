"""The field-jobs tests' app: notifications (tenants are told), tickets (a ticket becomes a
job) and scheduling; a real aiosmtpd relay receives what tenants are sent."""
from __future__ import annotations

import pytest
from notif_helpers import SmtpServer, email_channel, relay, smtp_settings  # noqa: F401 (shared fixtures)


def pytest_configure(config):
    config.addinivalue_line("markers", "no_tiles: the map test's app has no tile server set")


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["notifications", "tickets", "scheduling"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}})
    with application.app_context():
        yield application


@pytest.fixture
def field(app):
    """An installation type with a required and an optional task; two technicians."""
    from backhaul.plugins.scheduling import jobs
    from backhaul.sdk import db

    install = jobs.save_job_type({"name": "Installation", "durationMinutes": 90,
                                  "tasks": "* Mount the ONT\n* Test the speed\nTidy up",
                                  "skill": "fiber"})
    alex = jobs.save_technician({"name": "Alex Fielder", "skills": "fiber, wifi"})
    sam = jobs.save_technician({"name": "Sam Weekend", "workDays": "67"})
    db.session.commit()
    return install, alex, sam


@pytest.fixture
def ticket(app):
    """A tenant's ticket (opened by hand) in a Support group."""
    from backhaul.plugins.tickets import config, desk
    from backhaul.sdk import db
    from backhaul.sdk.accounts import add_contact, create_account

    account = create_account(name="Flat 4, Maple Court")
    add_contact(account, {"name": "Tina Tenant", "email": "tina@example.net",
                          "is_primary": True})
    group = config.save_group("Support")
    config.save_inbound_address({"address": "support@isp.example.net", "groupId": group.id})
    row = desk.open_ticket({"subject": "Fiber not installed yet", "groupId": group.id,
                            "accountId": account.id})
    db.session.commit()
    return row
