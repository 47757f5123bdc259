"""usage: fair-usage throttles (services over their allowance this period)

Revision ID: usage_0002
Revises: usage_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "usage_0002"
down_revision = "usage_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_throttle",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("kbps", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_usage_throttle_account_id", "usage_throttle", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_throttle_account_id", table_name="usage_throttle")
    op.drop_table("usage_throttle")
