"""core: auth tables (users, roles, permissions, sessions, API tokens, sign-in attempts)

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(255), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_counter", sa.BigInteger(), nullable=True),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("last_login_at", TS, nullable=True),
        sa.Column("password_changed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_user"),
        sa.UniqueConstraint("email", name="uq_auth_user_email"),
    )
    op.create_table(
        "auth_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_role"),
        sa.UniqueConstraint("name", name="uq_auth_role_name"),
    )
    op.create_table(
        "auth_role_permission",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(150), nullable=False),
        sa.ForeignKeyConstraint(["role_id"], ["auth_role.id"], ondelete="CASCADE",
                                name="fk_auth_role_permission_role_id_auth_role"),
        sa.PrimaryKeyConstraint("role_id", "permission", name="pk_auth_role_permission"),
    )
    op.create_table(
        "auth_user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name="fk_auth_user_role_user_id_auth_user"),
        sa.ForeignKeyConstraint(["role_id"], ["auth_role.id"], ondelete="CASCADE",
                                name="fk_auth_user_role_role_id_auth_role"),
        sa.PrimaryKeyConstraint("user_id", "role_id", name="pk_auth_user_role"),
    )
    op.create_index("ix_auth_user_role_role_id", "auth_user_role", ["role_id"])
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name="fk_auth_session_user_id_auth_user"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_session"),
    )
    op.create_index("ix_auth_session_user_id", "auth_session", ["user_id"])
    op.create_table(
        "auth_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("last_used_ip", sa.String(45), nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name="fk_auth_api_token_user_id_auth_user"),
        sa.PrimaryKeyConstraint("id", name="pk_auth_api_token"),
        sa.UniqueConstraint("token_hash", name="uq_auth_api_token_token_hash"),
    )
    op.create_index("ix_auth_api_token_user_id", "auth_api_token", ["user_id"])
    op.create_table(
        "auth_login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_login_attempt"),
    )
    op.create_index("ix_auth_login_attempt_email_at", "auth_login_attempt", ["email", "at"])
    op.create_index("ix_auth_login_attempt_at", "auth_login_attempt", ["at"])


def downgrade() -> None:
    op.drop_table("auth_login_attempt")
    op.drop_table("auth_api_token")
    op.drop_table("auth_session")
    op.drop_table("auth_user_role")
    op.drop_table("auth_role_permission")
    op.drop_table("auth_role")
    op.drop_table("auth_user")
