"""example: the greeting table

Revision ID: example_0001
Revises:
Create Date: 2026-11-25

A plugin's migrations form their own Alembic branch, labelled with the plugin's name, so that
``backhaul db upgrade`` moves it only while the plugin is enabled and never drops it when the
plugin is disabled. A migration that references the core's tables would add
``depends_on = "core_0004"``. Written by hand to match ``models.py`` exactly (constraint names
follow the naming convention in ``backhaul.core.db``).
"""
import sqlalchemy as sa
from alembic import op

revision = "example_0001"
down_revision = None
branch_labels = ("example",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "example_greeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_example_greeting"),
        sa.UniqueConstraint("key", name="uq_example_greeting_key"),
    )
    op.create_index("ix_example_greeting_account_id", "example_greeting", ["account_id"])


def downgrade() -> None:
    op.drop_table("example_greeting")
