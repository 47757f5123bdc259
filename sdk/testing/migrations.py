"""Check a plugin's migrations against its models: the schema the migrations built must be
exactly the one the models describe (columns, types, nullability, indexes, constraints).

The test kit's database is migrated with every branch (``backhaul db upgrade``), so in a
plugin's own tests::

    from backhaul.sdk.testing.migrations import migration_problems

    def test_my_migrations_match_my_models(backhaul_app):
        assert migration_problems(backhaul_app, "greetings") == []

An empty list means the models and the migrated schema agree; otherwise each entry is one of
Alembic's autogenerate differences ("add_column greetings_greeting.colour", ...): write the
migration that makes them agree (by hand; constraint names follow the naming convention).
"""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def schema_differences(app, prefixes: tuple[str, ...]) -> list:
    """Alembic's raw diff between the models and the database, for tables whose names start
    with one of ``prefixes``."""
    from backhaul.sdk import db

    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return bool(table) and table.startswith(prefixes)

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": include})
        return compare_metadata(context, db.metadata)


def _describe(diff) -> str:
    if isinstance(diff, list):  # modify_* entries come grouped
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    names = []
    for part in rest:
        name = getattr(part, "name", None)
        table = getattr(getattr(part, "table", None), "name", None)
        if name:
            names.append(f"{table}.{name}" if table and table != name else str(name))
        elif isinstance(part, str):
            names.append(part)
    names = [n for n in names if not any(m.startswith(f"{n}.") for m in names)]
    return f"{kind} {' '.join(names)}".strip()


def migration_problems(app, plugin: str) -> list[str]:
    """Readable differences between ``plugin``'s models and its migrated tables
    (``<plugin>_*``); ``[]`` when they match."""
    return [_describe(d) for d in schema_differences(app, (f"{plugin}_",))]


__all__ = ["migration_problems", "schema_differences"]
