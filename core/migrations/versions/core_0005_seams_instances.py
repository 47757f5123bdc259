"""core: configured extension instances (settings, encrypted secrets)

Revision ID: core_0005_seams
Revises: core_0004
Create Date: 2026-12-03

Written by hand to match ``backhaul.core.instances.ExtensionInstance``.
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0005_seams"
down_revision = "core_0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "core_extension_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("extension_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core_extension_instance"),
        sa.UniqueConstraint("owner", "kind", "name",
                            name="uq_core_extension_instance_owner_kind_name"),
    )


def downgrade() -> None:
    op.drop_table("core_extension_instance")
