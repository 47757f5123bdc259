"""poller: hosts discovered on scanned subnets

Revision ID: poller_0005
Revises: poller_0004
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "poller_0005"
down_revision = "poller_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poller_host",
        sa.Column("address", sa.String(45), primary_key=True),
        sa.Column("subnet", sa.String(50), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rtt_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_table("poller_host")
