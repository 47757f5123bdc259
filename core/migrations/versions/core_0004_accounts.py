"""core: accounts tables

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-25

Written by hand to match ``backhaul.core.accounts.models`` exactly (names follow the naming
convention of ``backhaul.core.db``). Seeds the default account statuses.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COORD = sa.Numeric(9, 6)


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", TS, nullable=False),
            sa.Column("updated_at", TS, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "core_counter",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_core_counter"),
    )
    status = op.create_table(
        "core_account_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("colour", sa.String(7), nullable=False),
        sa.Column("meaning", sa.String(16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_account_status"),
        sa.UniqueConstraint("key", name="uq_core_account_status_key"),
        sa.CheckConstraint("meaning IN ('active', 'inactive', 'delinquent', 'prospect')",
                           name="ck_core_account_status_meaning"),
    )
    op.create_table(
        "core_building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", COORD, nullable=True),
        sa.Column("longitude", COORD, nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_building"),
        sa.UniqueConstraint("key", name="uq_core_building_key"),
    )
    op.create_table(
        "core_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", COORD, nullable=True),
        sa.Column("longitude", COORD, nullable=True),
        sa.Column("serviceable", sa.Boolean(), nullable=False),
        sa.Column("technology", sa.String(32), nullable=False),
        sa.Column("max_down_mbps", sa.Integer(), nullable=True),
        sa.Column("max_up_mbps", sa.Integer(), nullable=True),
        sa.Column("serviceability_notes", sa.Text(), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_address"),
        sa.ForeignKeyConstraint(["building_id"], ["core_building.id"], ondelete="SET NULL",
                                name="fk_core_address_building_id_core_building"),
        sa.UniqueConstraint("key", name="uq_core_address_key"),
    )
    op.create_index("ix_core_address_building_id", "core_address", ["building_id"])
    op.create_index("ix_core_address_postal_code", "core_address", ["postal_code"])
    op.create_table(
        "core_account_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_account_group"),
        sa.UniqueConstraint("name", name="uq_core_account_group_name"),
    )
    op.create_table(
        "core_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("account_type", sa.String(32), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_account"),
        sa.ForeignKeyConstraint(["status_id"], ["core_account_status.id"],
                                name="fk_core_account_status_id_core_account_status"),
        sa.ForeignKeyConstraint(["parent_id"], ["core_account.id"], ondelete="SET NULL",
                                name="fk_core_account_parent_id_core_account"),
        sa.ForeignKeyConstraint(["address_id"], ["core_address.id"], ondelete="SET NULL",
                                name="fk_core_account_address_id_core_address"),
        sa.UniqueConstraint("number", name="uq_core_account_number"),
    )
    op.create_index("ix_core_account_name", "core_account", ["name"])
    op.create_index("ix_core_account_status_id", "core_account", ["status_id"])
    op.create_index("ix_core_account_parent_id", "core_account", ["parent_id"])
    op.create_index("ix_core_account_address_id", "core_account", ["address_id"])
    op.create_table(
        "core_account_group_member",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "group_id", name="pk_core_account_group_member"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_account_group_member_account_id_core_account"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["core_account_group.id"], ondelete="CASCADE",
            name="fk_core_account_group_member_group_id_core_account_group"),
    )
    op.create_index("ix_core_account_group_member_group_id", "core_account_group_member",
                    ["group_id"])
    op.create_table(
        "core_address_occupancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("ended_reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core_address_occupancy"),
        sa.ForeignKeyConstraint(["address_id"], ["core_address.id"], ondelete="CASCADE",
                                name="fk_core_address_occupancy_address_id_core_address"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_address_occupancy_account_id_core_account"),
    )
    op.create_index("ix_core_address_occupancy_address_id", "core_address_occupancy",
                    ["address_id"])
    op.create_index("ix_core_address_occupancy_account_id", "core_address_occupancy",
                    ["account_id"])
    open_only = sa.text("ended_at IS NULL")
    op.create_index("uq_core_address_occupancy_open_address", "core_address_occupancy",
                    ["address_id"], unique=True, postgresql_where=open_only,
                    sqlite_where=open_only)
    op.create_index("uq_core_address_occupancy_open_account", "core_address_occupancy",
                    ["account_id"], unique=True, postgresql_where=open_only,
                    sqlite_where=open_only)
    op.create_table(
        "core_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("is_financial", sa.Boolean(), nullable=False),
        sa.Column("portal_access", sa.Boolean(), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_contact"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_contact_account_id_core_account"),
    )
    op.create_index("ix_core_contact_account_id", "core_contact", ["account_id"])
    op.create_index("ix_core_contact_email", "core_contact", ["email"])
    op.create_index("uq_core_contact_primary", "core_contact", ["account_id"], unique=True,
                    postgresql_where=sa.text("is_primary"), sqlite_where=sa.text("is_primary"))
    op.create_table(
        "core_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("pinned_at", TS, nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_note"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_note_account_id_core_account"),
    )
    op.create_index("ix_core_note_account_id", "core_note", ["account_id"])
    op.create_table(
        "core_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("staff", sa.String(200), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_call"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_call_account_id_core_account"),
        sa.ForeignKeyConstraint(["contact_id"], ["core_contact.id"], ondelete="SET NULL",
                                name="fk_core_call_contact_id_core_contact"),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')",
                           name="ck_core_call_direction"),
    )
    op.create_index("ix_core_call_account_id", "core_call", ["account_id"])
    op.create_table(
        "core_account_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(32), nullable=True),
        sa.Column("new_status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core_account_status_change"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_account_status_change_account_id_core_account"),
    )
    op.create_index("ix_core_account_status_change_account_id", "core_account_status_change",
                    ["account_id"])
    op.create_table(
        "core_scheduled_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("target_type", sa.String(64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("cancelled_by", sa.String(200), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_core_scheduled_event"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_core_scheduled_event_account_id_core_account"),
        sa.ForeignKeyConstraint(["address_id"], ["core_address.id"], ondelete="CASCADE",
                                name="fk_core_scheduled_event_address_id_core_address"),
        sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed', 'cancelled')",
                           name="ck_core_scheduled_event_status"),
    )
    op.create_index("ix_core_scheduled_event_account_id", "core_scheduled_event",
                    ["account_id"])
    op.create_index("ix_core_scheduled_event_address_id", "core_scheduled_event",
                    ["address_id"])
    op.create_index("ix_core_scheduled_event_status_next", "core_scheduled_event",
                    ["status", "next_attempt_at"])
    _seed_statuses(status)


def _seed_statuses(status: sa.Table) -> None:
    """The default statuses (the same as ``statuses.DEFAULT_STATUSES``, frozen here)."""
    now = datetime.now(UTC)
    rows = [
        ("prospect", "Prospect", "#6366f1", "prospect", False, 10),
        ("active", "Active", "#16a34a", "active", True, 20),
        ("delinquent", "Delinquent", "#dc2626", "delinquent", False, 30),
        ("suspended", "Suspended", "#ea580c", "inactive", False, 40),
        ("inactive", "Inactive", "#6b7280", "inactive", False, 50),
        ("moved_out", "Moved out", "#78716c", "inactive", False, 60),
    ]
    op.bulk_insert(status, [
        {"key": k, "name": n, "colour": c, "meaning": m, "is_default": d, "position": p,
         "created_at": now, "updated_at": now} for k, n, c, m, d, p in rows])


def downgrade() -> None:
    for table in ("core_scheduled_event", "core_account_status_change", "core_call",
                  "core_note", "core_contact", "core_address_occupancy",
                  "core_account_group_member", "core_account", "core_account_group",
                  "core_address", "core_building", "core_account_status", "core_counter"):
        op.drop_table(table)
