"""poller: templates, where they apply, target states, samples

Revision ID: poller_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "poller_0001"
down_revision = None
branch_labels = ("poller",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "poller_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("icmp_enabled", sa.Boolean(), nullable=False),
        sa.Column("icmp_count", sa.Integer(), nullable=False),
        sa.Column("icmp_interval", sa.Float(), nullable=False),
        sa.Column("icmp_timeout", sa.Float(), nullable=False),
        sa.Column("loss_warning", sa.Float(), nullable=False),
        sa.Column("rtt_warning", sa.Float(), nullable=False),
        sa.Column("snmp_enabled", sa.Boolean(), nullable=False),
        sa.Column("snmp_community", sa.String(64), nullable=False),
        sa.Column("snmp_port", sa.Integer(), nullable=False),
        sa.Column("snmp_timeout", sa.Float(), nullable=False),
        sa.Column("oids", sa.JSON(), nullable=False))
    op.create_table(
        "poller_applied",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(),
                  sa.ForeignKey("poller_template.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False))
    op.create_table(
        "poller_state",
        sa.Column("target", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("raw_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("changed_at", TS, nullable=True),
        sa.Column("polled_at", TS, nullable=True),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("rtt_ms", sa.Float(), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("flips", sa.JSON(), nullable=False))
    op.create_table(
        "poller_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("text", sa.String(255), nullable=True))
    op.create_index("ix_poller_sample_target_metric_at", "poller_sample",
                    ["target", "metric", "at"])


def downgrade() -> None:
    op.drop_index("ix_poller_sample_target_metric_at", "poller_sample")
    for table in ("poller_sample", "poller_state", "poller_applied", "poller_template"):
        op.drop_table(table)
