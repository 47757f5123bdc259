"""Fixtures of Backhaul's test kit. See :mod:`backhaul.sdk.testing` for the environment."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

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
    """Migrate every installed plugin's branch once per session."""
    from backhaul.core.app import create_app
    from backhaul.core.migrate import upgrade

    app = create_app(dict(backhaul_base_config))
    with app.app_context():
        upgrade(app)
        from backhaul.core.db import db

        db.session.remove()
        db.engine.dispose()
    return True


def truncate_all(app) -> None:
    """Empty every table (between tests). Fast on PostgreSQL: one TRUNCATE statement."""
    from backhaul.core.db import db

    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables]
        inspector_names = set(sa.inspect(db.engine).get_table_names())
        tables = [t for t in tables if t.name in inspector_names]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                if tables:
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture
def make_app(backhaul_base_config, _backhaul_migrated):
    """``make_app(plugins=[...], extra_plugins=[...], **config)`` -> a migrated app.

    ``plugins`` defaults to every installed plugin. Tables are emptied after the test.
    """
    from backhaul.core.app import create_app
    from backhaul.core.db import db

    made = []

    def factory(plugins="all", extra_plugins=(), **config):
        cfg = dict(backhaul_base_config)
        cfg.update(PLUGINS=plugins, EXTRA_PLUGINS=list(extra_plugins))
        cfg.update({k.upper(): v for k, v in config.items()})
        app = create_app(cfg)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
    if made:
        truncate_all(made[0])
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    """An app with every installed plugin enabled (strict), inside an app context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def db_session(app):
    from backhaul.core.db import db

    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    """``cli("plugins", "list", "--json")`` runs the ``backhaul`` command against ``app``."""
    from click.testing import CliRunner

    from backhaul.core.cli import _State, main

    def invoke(*args, input=None):
        state = _State()
        state._app = app
        return CliRunner().invoke(main, list(args), obj=state, input=input,
                                  catch_exceptions=False)

    return invoke


@pytest.fixture
def hook_recorder(app):
    """A list of :class:`~backhaul.core.plugins.HookCall` filled by every hook call."""
    plugins = app.extensions["backhaul.plugins"]
    calls = plugins.add_recorder()
    yield calls
    plugins.remove_recorder(calls)


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
