"""The migrated database matches billing's models exactly (tables, columns, constraints)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def _billing_only(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    return bool(table_name and table_name.startswith("billing_"))


def test_migration_matches_models(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _billing_only})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_billing_branch_depends_on_accounts():
    from pathlib import Path

    import backhaul.plugins.billing as billing

    versions = Path(billing.__file__).parent / "migrations" / "versions"
    first = (versions / "billing_0001_initial.py").read_text()
    assert 'branch_labels = ("billing",)' in first
    assert 'depends_on = "core_0004"' in first
