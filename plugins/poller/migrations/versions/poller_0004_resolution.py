"""poller: sample resolution (0 full, 300 five-minute average, 3600 hourly average)

Revision ID: poller_0004
Revises: poller_0003
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "poller_0004"
down_revision = "poller_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poller_sample") as table:
        table.add_column(sa.Column("resolution", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("poller_sample") as table:
        table.drop_column("resolution")
