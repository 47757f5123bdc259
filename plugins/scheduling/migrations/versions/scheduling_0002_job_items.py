"""scheduling: equipment on jobs (install or collect, through the inventory plugin)

Revision ID: scheduling_0002
Revises: scheduling_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "scheduling_0002"
down_revision = "scheduling_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t = "scheduling_job_item"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["scheduling_job.id"], ondelete="CASCADE",
                                name=f"fk_{t}_job_id_scheduling_job"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("job_id", "item_id", name=f"uq_{t}_job_id_item_id"),
        sa.CheckConstraint("action IN ('install', 'collect')", name=f"ck_{t}_action"),
    )
    op.create_index(f"ix_{t}_job_id", t, ["job_id"])
    op.create_index(f"ix_{t}_item_id", t, ["item_id"])


def downgrade() -> None:
    op.drop_table("scheduling_job_item")
