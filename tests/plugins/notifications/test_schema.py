"""The migrated database matches the notifications models exactly; the branch is labelled."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backhaul.sdk import db


def _ours(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    return bool(table_name and table_name.startswith("notifications_"))


def test_migration_matches_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _ours})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_branch_label_and_dependency(app):
    from alembic.script import ScriptDirectory

    from backhaul.core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(app))
    assert script.get_revision("notifications@head").revision == "notifications_0003_seams"
    base = script.get_revision("notifications_0001")
    assert base.branch_labels == {"notifications"}
    assert base.dependencies == "core_0004"
