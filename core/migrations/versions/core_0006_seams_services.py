"""core: heartbeats of long-running services

Revision ID: core_0006_seams
Revises: core_0005_seams
Create Date: 2026-12-03

Written by hand to match ``backhaul.core.services.ServiceHeartbeat``.
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0006_seams"
down_revision = "core_0005_seams"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "core_service_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("shard", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("beat_at", TS, nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core_service_heartbeat"),
        sa.UniqueConstraint("service", "shard", name="uq_core_service_heartbeat_service_shard"),
    )


def downgrade() -> None:
    op.drop_table("core_service_heartbeat")
