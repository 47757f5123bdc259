"""scheduling: job types, technicians, jobs and their checklist tasks

Revision ID: scheduling_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "scheduling_0001"
down_revision = None
branch_labels = ("scheduling",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def _stamps():
    return [sa.Column("created_at", TS, nullable=False), sa.Column("updated_at", TS, nullable=False)]


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    t = "scheduling_job_type"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("skill", sa.String(50), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("name", name=f"uq_{t}_name"),
    )
    t = "scheduling_technician"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("work_days", sa.String(7), nullable=False),
        sa.Column("work_start", sa.Integer(), nullable=False),
        sa.Column("work_end", sa.Integer(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("name", name=f"uq_{t}_name"),
    )
    t = "scheduling_job"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        *_stamps(),
        _fk(t, "type_id", "scheduling_job_type"),
        _fk(t, "account_id", "core_account", "SET NULL"),
        _fk(t, "technician_id", "scheduling_technician"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.CheckConstraint("status IN ('new', 'booked', 'done', 'cancelled')",
                           name=f"ck_{t}_status"),
    )
    for column in ("status", "account_id", "ticket_id", "technician_id", "starts_at"):
        op.create_index(f"ix_{t}_{column}", t, [column])
    t = "scheduling_job_task"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(300), nullable=False),
        _fk(t, "job_id", "scheduling_job", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(f"ix_{t}_job_id", t, ["job_id"])


def downgrade() -> None:
    for table in ("scheduling_job_task", "scheduling_job", "scheduling_technician",
                  "scheduling_job_type"):
        op.drop_table(table)
