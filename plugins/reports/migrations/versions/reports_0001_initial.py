"""reports: saved reports

Revision ID: reports_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "reports_0001"
down_revision = None
branch_labels = ("reports",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reports_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("rows_path", sa.String(300), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("schedule_days", sa.String(7), nullable=False),
        sa.Column("schedule_time", sa.String(5), nullable=False),
        sa.Column("schedule_recipients", sa.String(1000), nullable=False),
        sa.Column("schedule_format", sa.String(10), nullable=False),
        sa.Column("next_run_at", TS, nullable=True),
        sa.Column("last_sent_at", TS, nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["auth_user.id"],
                                name="fk_reports_report_owner_id_auth_user", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_reports_report"),
        sa.UniqueConstraint("name", name="uq_reports_report_name"),
    )
    op.create_index("ix_reports_report_owner_id", "reports_report", ["owner_id"])
    op.create_index("ix_reports_report_next_run_at", "reports_report", ["next_run_at"])


def downgrade() -> None:
    op.drop_table("reports_report")
