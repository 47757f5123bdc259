"""poller: accounts affected by a down device

Revision ID: poller_0003
Revises: poller_0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "poller_0003"
down_revision = "poller_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poller_affected",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("subscriptions", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("target", "account_id", name="uq_poller_affected"))
    op.create_index("ix_poller_affected_account_id", "poller_affected", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_poller_affected_account_id", "poller_affected")
    op.drop_table("poller_affected")
