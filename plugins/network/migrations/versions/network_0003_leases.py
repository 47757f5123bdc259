"""network: leases a device reports it handed out (DHCP), shown on the service

Revision ID: network_0003
Revises: network_0002
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "network_0003"
down_revision = "network_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_lease",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("network_device.id"),
                  nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("hostname", sa.String(255), nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("seen_at", TS, nullable=False),
    )
    op.create_index("ix_network_lease_device_id", "network_lease", ["device_id"])
    op.create_index("ix_network_lease_subscription_id", "network_lease", ["subscription_id"])


def downgrade() -> None:
    op.drop_table("network_lease")
