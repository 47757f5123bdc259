"""network: what a device says about itself (identity, version, model, serial)

Revision ID: network_0002
Revises: network_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "network_0002"
down_revision = "network_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("network_device", sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("network_device", "facts")
