"""Billing tests run with the core plugins and billing only (others' work cannot break them).

``billing_app(**settings)`` makes such an app with ``[plugins.billing]`` settings;
``app`` is the test's one (settings from ``@pytest.mark.billing_settings(...)``), inside its
app context. ``shop`` is a small catalogue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest


@pytest.fixture
def billing_app(make_app):
    def factory(extra_plugins=(), plugins=("billing",), **settings):
        return make_app(plugins=list(plugins), extra_plugins=list(extra_plugins),
                        plugin_settings={"billing": settings})

    return factory


def pytest_configure(config):
    config.addinivalue_line("markers", "billing_settings(**settings): [plugins.billing] "
                                       "settings of the test's app")


@pytest.fixture
def app(billing_app, request):
    marker = request.node.get_closest_marker("billing_settings")
    application = billing_app(**(marker.kwargs if marker else {}))
    with application.app_context():
        yield application


@pytest.fixture
def db():
    from backhaul.sdk import db as _db

    return _db


@pytest.fixture
def make_account():
    """``make_account("Jane Doe")``: a new (active) account, flushed, not committed.

    Like ``shop``, it works in whatever app context is current: request ``app`` (or your own
    app fixture) before it.
    """
    from backhaul.sdk.accounts import create_account

    def factory(name: str = "Jane Doe"):
        return create_account(name=name)

    return factory


@dataclass
class Shop:
    tax: object
    fiber: object
    voice: object
    maintenance: object
    install: object
    quarterly_tv: object


@pytest.fixture
def shop(db):
    from backhaul.plugins.billing import catalogue

    tax = catalogue.create_tax_class("standard", "Standard rate", "10")
    fiber = catalogue.create_service("Fiber 100", "data", "50.00", currency="USD",
                                     tax_class="standard",
                                     params={"download_mbps": 100, "upload_mbps": 20})
    voice = catalogue.create_service("Home phone", "voice", "15.00", currency="USD",
                                     tax_class="standard")
    maintenance = catalogue.create_service("Maintenance fee", "recurring", "20.00",
                                           currency="USD")
    install = catalogue.create_service("Installation", "one_time", "99.00", currency="USD")
    tv = catalogue.create_service("IPTV quarterly", "general", "30.00", currency="USD",
                                  frequency="quarterly", tax_class="standard",
                                  params={"channels": ["news", "sport"]})
    db.session.commit()
    return Shop(tax, fiber, voice, maintenance, install, tv)


D = date
