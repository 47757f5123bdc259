"""The inventory tests' app: inventory with notifications (low-stock alerts) and network
(devices as holders)."""
from __future__ import annotations

import pytest


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing", "notifications", "network", "inventory"])
    with application.app_context():
        yield application
