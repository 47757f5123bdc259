"""Backhaul's test kit for plugin authors (registered as a pytest plugin: ``-p backhaul``).

Fixtures: ``make_app`` (an app with chosen plugins on SQLite or PostgreSQL, migrated),
``app``, ``db_session``, ``client``, ``cli``, ``hook_recorder``, ``temp_plugin``,
``redis_url``, ``rq_burst``. Contract tests for each extension point live in
:mod:`backhaul.sdk.testing.contracts`; protocol simulators in ``backhaul.sdk.testing.sim*``.

Environment:

* ``BACKHAUL_TEST_DATABASE_URL`` — an admin URL of a PostgreSQL server; each test session
  creates (and drops) its own throw-away database there. Unset: SQLite in a temp folder.
* ``BACKHAUL_TEST_REDIS_URL`` — a Redis server for job tests. Unset: those tests skip, unless
  ``BACKHAUL_TEST_REQUIRE_PEERS=1``, which turns a missing peer into a failure (CI).
"""
from .plugin_factory import make_plugin

__all__ = ["make_plugin"]
