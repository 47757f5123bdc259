"""Fixtures of Backhaul's test kit. See :mod:`backhaul.sdk.testing` for the environment."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from .auth import admin_user, api_token, csrf_token, login, matrix_principals, staff_user  # noqa: F401
from .browser import (  # noqa: F401
    backhaul_live_server,
    browser_context,
    chromium_path,
    make_live_server,
    page,
    playwright_driver,
    pytest_runtest_makereport,
)
from .plugin_factory import make_plugin

ADMIN_URL_ENV = "BACKHAUL_TEST_DATABASE_URL"
REDIS_URL_ENV = "BACKHAUL_TEST_REDIS_URL"
REQUIRE_PEERS_ENV = "BACKHAUL_TEST_REQUIRE_PEERS"


def require_peers() -> bool:
    return os.environ.get(REQUIRE_PEERS_ENV, "") in {"1", "true", "yes"}


def peer_missing(what: str) -> None:
    """Skip, or fail when the run promised every real peer (CI)."""
    if require_peers():
        pytest.fail(f"{what} is required ({REQUIRE_PEERS_ENV}=1) but not available")
    pytest.skip(f"{what} not available")


# ------------------------------------------------------------------------------ database
def _pg_url(admin_url: str, dbname: str) -> str:
    url = sa.engine.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def backhaul_database_url(tmp_path_factory) -> Iterator[str]:
    """A throw-away database for this test session (PostgreSQL when configured)."""
    admin = os.environ.get(ADMIN_URL_ENV)
    if not admin:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    name = f"bh_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(_pg_url(admin, "postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # a throw-away database need not wait for the disk on every commit
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield _pg_url(admin, name)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


@pytest.fixture(scope="session")
def backhaul_base_config(backhaul_database_url, tmp_path_factory) -> dict:
    """Configuration every test app starts from (override per app through ``make_app``)."""
    return {
        "DATABASE_URL": backhaul_database_url,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "STRICT_PLUGINS": True,
        "QUEUE_PREFIX": f"bhtest-{uuid.uuid4().hex[:8]}",
        "JOB_BACKOFF_SECONDS": 0,
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def _backhaul_migrated(backhaul_base_config) -> bool:
    """Migrate the core and every installed plugin's branch once per session.

    Not strict: a plugin that fails at start-up still has its tables created, so that one
    broken plugin fails its own tests rather than every test of the session.
    """
    from backhaul.core.app import create_app
    from backhaul.core.migrate import branch_labels, upgrade

    app = create_app({**backhaul_base_config, "STRICT_PLUGINS": False})
    with app.app_context():
        upgrade(app, branch_labels(app))
        from backhaul.core.db import db

        db.session.remove()
        db.engine.dispose()
    return True


def truncate_all(app) -> None:
    """Empty every table (between tests) and restart the id sequences.

    ``DELETE`` children-first rather than ``TRUNCATE``: on PostgreSQL a TRUNCATE of ~50 tables
    costs over a second (new files for each), a DELETE of the few rows a test wrote costs
    milliseconds. Tables marked ``info={"append_only": True}`` (a trigger refuses DELETE on
    PostgreSQL: the audit trail) are truncated when they hold rows.
    """
    from backhaul.core.db import db

    with app.app_context():
        db.session.remove()
        existing = set(sa.inspect(db.engine).get_table_names())
        tables = [t for t in db.metadata.sorted_tables if t.name in existing]
        with db.engine.begin() as conn:
            for table in reversed(tables):
                if table.info.get("append_only") and conn.dialect.name == "postgresql":
                    # a trigger refuses DELETE (the audit trail); TRUNCATE fires no row trigger
                    if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                        conn.execute(sa.text(f'TRUNCATE "{table.name}"'))
                    continue
                conn.execute(table.delete())
            if conn.dialect.name == "postgresql":
                serial = [t.name for t in tables if "id" in t.c and t.c.id.primary_key]
                conn.execute(sa.text(
                    "SELECT setval(pg_get_serial_sequence(quote_ident(t), 'id'), 1, false) "
                    "FROM unnest(CAST(:names AS text[])) AS t "
                    "WHERE pg_get_serial_sequence(quote_ident(t), 'id') IS NOT NULL"),
                    {"names": serial})
            elif "sqlite_sequence" in existing:
                conn.execute(sa.text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def make_app(backhaul_base_config, _backhaul_migrated, hook_recorder):
    """``make_app(plugins=[...], extra_plugins=[...], **config)`` -> a migrated app.

    ``plugins`` defaults to every installed plugin; ``plugins=[]`` gives the core alone.
    Every app of a test shares one private RQ queue prefix and records its hook calls,
    from its creation on, into ``hook_recorder``. Tables are emptied after the test.
    """
    from backhaul.core.app import create_app
    from backhaul.core.db import db

    made = []
    prefix = f"{backhaul_base_config['QUEUE_PREFIX']}-{uuid.uuid4().hex[:8]}"

    def factory(plugins="all", extra_plugins=(), **config):
        if plugins == "all":  # in tests, opt-in plugins (the example) are installed too
            from backhaul.core.plugins import discover

            plugins = sorted(discover())
        cfg = dict(backhaul_base_config)
        cfg.update(PLUGINS=plugins, EXTRA_PLUGINS=list(extra_plugins), QUEUE_PREFIX=prefix,
                   HOOK_RECORDERS=[hook_recorder])
        cfg.update({k.upper(): v for k, v in config.items()})
        app = create_app(cfg)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
        _empty_queues(app)
    if made:
        truncate_all(made[0])
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _empty_queues(app) -> None:
    """Drop this test's RQ queues, so no job leaks into the next test (ids are reused)."""
    backend = app.extensions.get("backhaul.jobs")
    if backend is None or backend.redis is None:
        return
    from rq import Queue

    try:
        for queue in Queue.all(connection=backend.redis):
            if queue.name.startswith(f"{backend.prefix}:"):
                queue.delete(delete_jobs=True)
    except Exception:  # Redis stopped by the test: nothing left to clean
        pass


# The kit's fixtures are prefixed so that a plugin author's own ``app``, ``client``... win
# without surprises; alias them in your conftest if you like the short names:
#     @pytest.fixture
#     def app(backhaul_app): return backhaul_app
@pytest.fixture
def backhaul_app(make_app):
    """An app with every installed plugin enabled (strict), inside an app context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def backhaul_db_session(backhaul_app):
    """The SQLAlchemy session of :func:`backhaul_app`."""
    from backhaul.core.db import db

    return db.session


@pytest.fixture
def backhaul_client(backhaul_app):
    """A test client of :func:`backhaul_app`."""
    return backhaul_app.test_client()


def run_cli(app, *args: str, input: str | None = None):
    """Run the ``backhaul`` command line against ``app``; returns click's ``Result``."""
    from click.testing import CliRunner

    from backhaul.core.cli import _State, main

    state = _State()
    state._app = app
    return CliRunner().invoke(main, list(args), obj=state, input=input,
                              catch_exceptions=False)


@pytest.fixture
def backhaul_cli(backhaul_app):
    """``backhaul_cli("plugins", "list", "--json")`` runs the ``backhaul`` command against
    :func:`backhaul_app` (for another app: ``backhaul.sdk.testing.run_cli(app, ...)``)."""

    def invoke(*args, input=None):
        return run_cli(backhaul_app, *args, input=input)

    return invoke


class HookRecorder(list):
    """The hook calls of every app of the test (:class:`~backhaul.core.plugins.HookCall`)."""

    def calls(self, hook: str, plugin: str | None = None) -> list:
        return [c for c in self if c.hook == hook and (plugin is None or c.plugin == plugin)]

    def ran(self, hook: str, plugin: str) -> bool:
        """Whether ``plugin``'s implementation of ``hook`` was called (and returned)."""
        return any(c.error is None for c in self.calls(hook, plugin))


@pytest.fixture
def hook_recorder() -> HookRecorder:
    """Every hook call of the apps this test makes, from their creation on: start-up hooks
    (``permissions``, ``register_blueprints``...) included. ``.calls(hook, plugin)``,
    ``.ran(hook, plugin)``."""
    return HookRecorder()


@pytest.fixture
def temp_plugin():
    """``temp_plugin("name", hook=func, ...)``: an in-test plugin for ``make_app(extra_plugins=)``."""
    return make_plugin


# ------------------------------------------------------------------------------ redis / RQ
@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        peer_missing(f"Redis ({REDIS_URL_ENV})")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        peer_missing(f"Redis at {url} ({exc})")
    return url


@pytest.fixture
def rq_burst():
    """``rq_burst(app, queues=["default"])``: run a real RQ worker until the queues are empty."""
    from backhaul.core.scheduler import run_worker

    def run(app, queues=("default",)):
        run_worker(app, list(queues), burst=True)

    return run
