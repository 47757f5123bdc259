"""Migrations: every branch builds from an empty database, the models match the migrated
schema, and disabling a plugin never drops its tables.

Generic on purpose: the branches are whatever the core and the installed plugins ship.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from backhaul.core.app import create_app
from backhaul.core.db import db
from backhaul.core.migrate import alembic_config, branch_labels, plugin_version_dirs, upgrade
from backhaul.sdk.testing.pytest_plugin import ADMIN_URL_ENV, _pg_url

#: tables owned by a core feature that is not its own migration branch
CORE_PREFIXES = ("core_", "auth_", "audit_")


@pytest.fixture
def empty_database(tmp_path):
    """``empty_database()`` -> the URL of a new, empty database (dropped after the test)."""
    admin = os.environ.get(ADMIN_URL_ENV)
    created = []

    def make() -> str:
        if not admin:
            return f"sqlite:///{tmp_path / f'empty-{len(created)}-{uuid.uuid4().hex[:6]}.db'}"
        name = f"bh_mig_{uuid.uuid4().hex[:10]}"
        with _admin_engine(admin).connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return _pg_url(admin, name)

    yield make
    if created:
        engine = _admin_engine(admin)
        with engine.connect() as conn:
            for name in created:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :n AND pid <> pg_backend_pid()"),
                             {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def _admin_engine(admin: str):
    return sa.create_engine(_pg_url(admin, "postgres"), isolation_level="AUTOCOMMIT")


def app_on(url: str, tmp_path: Path, **config):
    cfg = {"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
           "SECRET_KEY": "migration-tests", "STRICT_PLUGINS": False}
    cfg.update({k.upper(): v for k, v in config.items()})
    return create_app(cfg)


def owned_prefixes(app) -> tuple[str, ...]:
    names = set(app.extensions["backhaul.plugins"].installed_names()) | set(branch_labels(app))
    return CORE_PREFIXES + tuple(f"{name}_" for name in sorted(names))


def schema_differences(app, tables: set[str]) -> list:
    """Alembic's autogenerate diff between the models and the database, for ``tables``."""
    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in tables

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": include})
        return compare_metadata(context, db.metadata)


def import_every_plugin(app) -> None:
    """Import installed plugins that are not enabled (opt-in ones) too, so their models are
    declared whatever ran before this test."""
    import importlib

    for record in app.extensions["backhaul.plugins"].records.values():
        if record.source != "core" and record.module:
            importlib.import_module(record.module)


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# ----------------------------------------------------------------------------- per branch
def test_every_branch_upgrades_from_an_empty_database_and_matches_the_models(
        empty_database, tmp_path):
    probe = app_on(empty_database(), tmp_path)
    with probe.app_context():
        labels = branch_labels(probe)
        prefixes = owned_prefixes(probe)
        import_every_plugin(probe)
    dispose(probe)
    assert "core" in labels and "example" in labels
    problems = []
    for label in labels:
        app = app_on(empty_database(), tmp_path)
        with app.app_context():
            try:
                command.upgrade(alembic_config(app), f"{label}@head")
            except Exception as exc:  # report every broken branch, not just the first
                problems.append(f"branch '{label}' does not upgrade from empty: "
                                f"{type(exc).__name__}: {exc}")
                continue
            created = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
            ours = {t for t in created if t.startswith(prefixes)}
            modelled = ours & set(db.metadata.tables)
            unmodelled = sorted(ours - set(db.metadata.tables))
            if unmodelled:
                problems.append(f"branch '{label}' creates tables no model declares: "
                                f"{unmodelled}")
            diff = schema_differences(app, modelled)
            if diff:
                problems.append(f"branch '{label}': models differ from the migrated schema: "
                                f"{diff}")
        dispose(app)
    assert not problems, "\n".join(problems)


def test_full_upgrade_creates_every_modelled_table(empty_database, tmp_path):
    app = app_on(empty_database(), tmp_path)
    with app.app_context():
        upgrade(app, branch_labels(app))
        existing = set(sa.inspect(db.engine).get_table_names())
        prefixes = owned_prefixes(app)
        missing = sorted(t for t in db.metadata.tables
                         if t.startswith(prefixes) and t not in existing)
        assert not missing, f"models without a migration: {missing}"
        diff = schema_differences(app, existing & set(db.metadata.tables))
        assert not diff, diff
        # a second upgrade is a no-op
        upgrade(app, branch_labels(app))
    dispose(app)


def test_each_plugin_branch_is_labelled_with_its_plugin_name(empty_database, tmp_path):
    app = app_on(empty_database(), tmp_path)
    with app.app_context():
        dirs = plugin_version_dirs(app)
        script = ScriptDirectory.from_config(alembic_config(app))
        for rev in script.walk_revisions():
            owner = next(name for name, folder in dirs.items()
                         if Path(rev.path).parent.resolve() == folder.resolve())
            assert rev.revision.startswith(f"{owner}_"), \
                f"{rev.path}: revision ids start with the branch name ('{owner}_0001')"
            if rev.down_revision is None:
                assert rev.branch_labels == {owner}, \
                    f"{rev.path}: the first revision carries branch_labels = ('{owner}',)"
        assert len(script.get_heads()) == len(dirs), "one head per branch"
    dispose(app)


# ----------------------------------------------------------------------------- disabling
def test_disabling_a_plugin_never_drops_its_tables(empty_database, tmp_path):
    url = empty_database()
    app = app_on(url, tmp_path, plugins=["example"])
    with app.app_context():
        assert "example" in upgrade(app)
        db.session.execute(sa.text("INSERT INTO example_greeting (name, message, delivered, "
                                   "created_at, updated_at) VALUES ('kept', 'kept', false, "
                                   "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.commit()
    dispose(app)

    disabled = app_on(url, tmp_path, plugins=["example"], disabled_plugins=["example"])
    with disabled.app_context():
        assert not disabled.extensions["backhaul.plugins"].is_enabled("example")
        assert "example" not in upgrade(disabled)  # its revision still resolves
        assert db.session.scalar(sa.text("SELECT name FROM example_greeting")) == "kept"
        versions = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
        assert "example_0001" in versions
    dispose(disabled)

    again = app_on(url, tmp_path, plugins=["example"])
    with again.app_context():
        upgrade(again)
        assert db.session.scalar(sa.text("SELECT count(*) FROM example_greeting")) == 1
    dispose(again)
