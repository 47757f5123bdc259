"""network: a business service's VLAN on its device

Revision ID: network_0005
Revises: network_0004
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "network_0005"
down_revision = "network_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("network_credential", sa.Column("vlan", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("network_credential", "vlan")
