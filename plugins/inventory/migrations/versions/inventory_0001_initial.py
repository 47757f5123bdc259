"""inventory: manufacturers, models, locations, items, identifiers, movements, thresholds

Revision ID: inventory_0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "inventory_0001"
down_revision = None
branch_labels = ("inventory",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inventory_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_location_parent_id_inventory_location"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_location")),
        sa.UniqueConstraint("code", name=op.f("uq_inventory_location_code")),
    )
    op.create_index(
        op.f("ix_inventory_location_parent_id"), "inventory_location", ["parent_id"], unique=False
    )
    op.create_table(
        "inventory_manufacturer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_manufacturer")),
        sa.UniqueConstraint("name", name=op.f("uq_inventory_manufacturer_name")),
    )
    op.create_table(
        "inventory_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["manufacturer_id"],
            ["inventory_manufacturer.id"],
            name=op.f("fk_inventory_model_manufacturer_id_inventory_manufacturer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_model")),
        sa.UniqueConstraint(
            "manufacturer_id", "name", name=op.f("uq_inventory_model_manufacturer_id_name")
        ),
    )
    op.create_index(
        op.f("ix_inventory_model_manufacturer_id"),
        "inventory_model",
        ["manufacturer_id"],
        unique=False,
    )
    op.create_table(
        "inventory_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("holder_type", sa.String(length=16), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("management_address", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_item_location_id_inventory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["inventory_model.id"],
            name=op.f("fk_inventory_item_model_id_inventory_model"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_item")),
    )
    op.create_index(
        "ix_inventory_item_holder", "inventory_item", ["holder_type", "holder_id"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_item_location_id"), "inventory_item", ["location_id"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_item_model_id"), "inventory_item", ["model_id"], unique=False
    )
    op.create_index(op.f("ix_inventory_item_status"), "inventory_item", ["status"], unique=False)
    op.create_table(
        "inventory_threshold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("alerted_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_threshold_location_id_inventory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["inventory_model.id"],
            name=op.f("fk_inventory_threshold_model_id_inventory_model"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_threshold")),
        sa.UniqueConstraint(
            "model_id", "location_id", name=op.f("uq_inventory_threshold_model_id_location_id")
        ),
    )
    op.create_table(
        "inventory_identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("field_key", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_identifier_item_id_inventory_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_identifier")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_inventory_identifier_kind_value")),
    )
    op.create_index(
        op.f("ix_inventory_identifier_item_id"), "inventory_identifier", ["item_id"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_identifier_value"), "inventory_identifier", ["value"], unique=False
    )
    op.create_table(
        "inventory_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=True),
        sa.Column("to_location_id", sa.Integer(), nullable=True),
        sa.Column("from_holder_type", sa.String(length=16), nullable=True),
        sa.Column("from_holder_id", sa.Integer(), nullable=True),
        sa.Column("to_holder_type", sa.String(length=16), nullable=True),
        sa.Column("to_holder_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("related_item_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_movement_from_location_id_inventory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_movement_item_id_inventory_item"),
        ),
        sa.ForeignKeyConstraint(
            ["related_item_id"],
            ["inventory_item.id"],
            name=op.f("fk_inventory_movement_related_item_id_inventory_item"),
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["inventory_location.id"],
            name=op.f("fk_inventory_movement_to_location_id_inventory_location"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_movement")),
    )
    op.create_index(
        op.f("ix_inventory_movement_item_id"), "inventory_movement", ["item_id"], unique=False
    )
    op.create_index(
        op.f("ix_inventory_movement_reference"), "inventory_movement", ["reference"], unique=False
    )
    op.create_index(
        "ix_inventory_movement_to_holder",
        "inventory_movement",
        ["to_holder_type", "to_holder_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in (
        "inventory_movement",
        "inventory_identifier",
        "inventory_threshold",
        "inventory_item",
        "inventory_model",
        "inventory_manufacturer",
        "inventory_location",
    ):
        op.drop_table(table)
