"""usage: hourly and daily rollups, unattributed traffic, source choice, NetFlow templates,
exporter clocks, fired thresholds, raw flows

Revision ID: usage_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "usage_0001"
down_revision = None
branch_labels = ("usage",)
depends_on = None

TS = sa.DateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_hourly",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("hour", TS, primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("bytes_down", sa.BigInteger(), nullable=False),
        sa.Column("bytes_up", sa.BigInteger(), nullable=False))
    op.create_table(
        "usage_daily",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("bytes_down", sa.BigInteger(), nullable=False),
        sa.Column("bytes_up", sa.BigInteger(), nullable=False))
    op.create_table(
        "usage_unattributed",
        sa.Column("exporter", sa.String(64), primary_key=True),
        sa.Column("hour", TS, primary_key=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("flows", sa.BigInteger(), nullable=False))
    op.create_table(
        "usage_source_choice",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(16), nullable=False))
    op.create_table(
        "usage_template",
        sa.Column("exporter", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("domain", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("template_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("options", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "usage_exporter_clock",
        sa.Column("exporter", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("domain", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("init_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "usage_threshold_fired",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("period_start", sa.Date(), primary_key=True),
        sa.Column("percent", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fired_at", TS, nullable=False))
    op.create_table(
        "usage_flow",
        sa.Column("id", BIG, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("exporter", sa.String(64), nullable=False),
        sa.Column("src", sa.String(64), nullable=False),
        sa.Column("dst", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True))
    op.create_index("ix_usage_flow_at", "usage_flow", ["at"])
    op.create_index("ix_usage_flow_subscription_id", "usage_flow", ["subscription_id"])


def downgrade() -> None:
    for table in ("usage_flow", "usage_threshold_fired", "usage_exporter_clock", "usage_template",
                  "usage_source_choice", "usage_unattributed", "usage_daily", "usage_hourly"):
        op.drop_table(table)
