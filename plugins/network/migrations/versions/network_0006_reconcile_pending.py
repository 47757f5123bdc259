"""network: services waiting to be reconciled, so a device's jobs coalesce

Revision ID: network_0006
Revises: network_0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "network_0006"
down_revision = "network_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_reconcile_pending",
        sa.Column("device_id", sa.Integer(), sa.ForeignKey(
            "network_device.id", name="fk_network_reconcile_pending_device_id_network_device"),
            primary_key=True),
        sa.Column("subscription_id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("network_reconcile_pending")
