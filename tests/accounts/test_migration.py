"""Migration core_0004 matches the accounts models exactly, partial unique indexes included."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backhaul.core.db import db

TABLES = {"core_counter", "core_account_status", "core_building", "core_address",
          "core_account_group", "core_account", "core_account_group_member",
          "core_address_occupancy", "core_contact", "core_note", "core_call",
          "core_account_status_change", "core_scheduled_event"}


def _tables(item) -> set[str]:
    """Names of our tables that a diff entry (nested tuples and lists) touches."""
    if isinstance(item, str):
        return {item} & TABLES
    if isinstance(item, (tuple, list)):
        return set().union(*(_tables(part) for part in item)) if item else set()
    if isinstance(item, sa.Table):
        return {item.name} & TABLES
    table = getattr(item, "table", None)
    return {table.name} & TABLES if isinstance(table, sa.Table) else set()


def test_models_match_the_migration(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                db.metadata)
    mine = [d for d in diff if _tables(d)]
    assert mine == []
    inspector = sa.inspect(db.engine)
    assert TABLES <= set(inspector.get_table_names())
    indexes = {i["name"]: i for i in inspector.get_indexes("core_address_occupancy")}
    assert indexes["uq_core_address_occupancy_open_address"]["unique"]
    assert indexes["uq_core_address_occupancy_open_account"]["unique"]
    contact = {i["name"]: i for i in inspector.get_indexes("core_contact")}
    assert contact["uq_core_contact_primary"]["unique"]
