"""Accounts tests run with the core plugins only, so that other plugins' work cannot break them."""
import pytest


@pytest.fixture
def app(make_app, temp_plugin):
    """The core plugins plus a subscriber recording account events (``app.account_events``)."""
    seen: list = []
    plugin = temp_plugin(
        "accounts_test_subscriber",
        account_created=lambda account_id: seen.append(
            ("account_created", {"account_id": account_id})),
        account_status_changed=lambda account_id, old_status, new_status, reason: seen.append(
            ("account_status_changed", {"account_id": account_id, "old_status": old_status,
                                        "new_status": new_status, "reason": reason})))
    application = make_app(plugins=[], extra_plugins=[plugin])
    application.account_events = seen
    with application.app_context():
        yield application


@pytest.fixture
def events(app):
    return app.account_events


@pytest.fixture
def building(app):
    from backhaul.core.accounts.addresses import create_building
    from backhaul.core.accounts.buildings import generate_units
    from backhaul.core.db import db

    b = create_building({"name": "Maple Court", "street": "12 Maple Street", "city": "Springfield",
                         "region": "IL", "postal_code": "62701", "country": "US"})
    generate_units(b, {"pattern": "101-104", "serviceable": True, "technology": "fiber",
                       "max_down_mbps": 1000, "max_up_mbps": 1000})
    db.session.commit()
    return b
