"""The suite uses Backhaul's own test kit (``backhaul.sdk.testing``), like any plugin would.

The kit's fixtures are prefixed (``backhaul_app``...); this suite aliases the short names it
has always used, exactly as a plugin author may in their own conftest. A folder's conftest
may override ``app`` (notifications does); ``client``, ``db_session`` and ``cli`` follow it.
"""
from __future__ import annotations

import pytest

from backhaul.sdk.testing import run_cli


@pytest.fixture
def app(backhaul_app):
    return backhaul_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    from backhaul.sdk import db

    return db.session


@pytest.fixture
def live_server(app, make_live_server):
    return make_live_server(app)


@pytest.fixture
def cli(app):
    def invoke(*args, input=None):
        return run_cli(app, *args, input=input)

    return invoke
