"""radius: NAS options, sessions, cache invalidations, last authentication

Revision ID: radius_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "radius_0001"
down_revision = None
branch_labels = ("radius",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "radius_nas",
        sa.Column("device_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("coa_port", sa.Integer(), nullable=False),
        sa.Column("require_message_authenticator", sa.Boolean(), nullable=False),
        sa.Column("dialect", sa.String(16), nullable=False))
    op.create_table(
        "radius_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("acct_session_id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("framed_ip", sa.String(64), nullable=True),
        sa.Column("calling_station", sa.String(64), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
        sa.Column("input_octets", sa.BigInteger(), nullable=False),
        sa.Column("output_octets", sa.BigInteger(), nullable=False),
        sa.Column("session_time", sa.Integer(), nullable=False),
        sa.Column("terminate_cause", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("coa_result", sa.String(200), nullable=True),
        sa.UniqueConstraint("device_id", "acct_session_id", name="uq_radius_session_nas_id"))
    for column in ("device_id", "subscription_id", "account_id", "stopped_at"):
        op.create_index(f"ix_radius_session_{column}", "radius_session", [column])
    op.create_table(
        "radius_invalidation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False))
    op.create_index("ix_radius_invalidation_at", "radius_invalidation", ["at"])
    op.create_table(
        "radius_last_auth",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False))
    op.create_index("ix_radius_last_auth_subscription_id", "radius_last_auth",
                    ["subscription_id"])


def downgrade() -> None:
    for table in ("radius_last_auth", "radius_invalidation", "radius_session", "radius_nas"):
        op.drop_table(table)
