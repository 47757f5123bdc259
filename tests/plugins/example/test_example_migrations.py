"""The documented migration check, used as a plugin author would — and shown to fail."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.testing.migrations import migration_problems


def test_the_example_plugins_migrations_match_its_models(backhaul_app):
    assert migration_problems(backhaul_app, "example") == []


def test_a_column_the_migration_forgot_is_reported(backhaul_app):
    table = db.metadata.tables["example_greeting"]
    extra = sa.Column("colour", sa.String(20), nullable=True)
    table.append_column(extra)
    try:
        problems = migration_problems(backhaul_app, "example")
    finally:
        table._columns.remove(extra)
    assert problems == ["add_column example_greeting.colour"], problems
