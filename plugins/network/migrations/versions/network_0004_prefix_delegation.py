"""network: prefix-delegation pools (the length of the IPv6 prefixes they hand out)

Revision ID: network_0004
Revises: network_0003
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "network_0004"
down_revision = "network_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("network_subnet", sa.Column("delegated_length", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("network_subnet", "delegated_length")
