"""portal: logins, sessions, set-password links, attempts, branding

Revision ID: portal_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "portal_0001"
down_revision = None
branch_labels = ("portal",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def _contact(table):
    return sa.ForeignKeyConstraint(["contact_id"], ["core_contact.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_contact_id_core_contact")


def upgrade() -> None:
    op.create_table(
        "portal_login",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("password_changed_at", TS, nullable=True),
        sa.Column("last_login_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _contact("portal_login"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_portal_login"),
    )
    op.create_table(
        "portal_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        _contact("portal_session"),
        sa.PrimaryKeyConstraint("id", name="pk_portal_session"),
    )
    op.create_index("ix_portal_session_contact_id", "portal_session", ["contact_id"])
    op.create_table(
        "portal_link",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        _contact("portal_link"),
        sa.PrimaryKeyConstraint("id", name="pk_portal_link"),
    )
    op.create_index("ix_portal_link_contact_id", "portal_link", ["contact_id"])
    op.create_table(
        "portal_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_attempt"),
    )
    op.create_index("ix_portal_attempt_email", "portal_attempt", ["email"])
    op.create_index("ix_portal_attempt_at", "portal_attempt", ["at"])
    op.create_table(
        "portal_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("action_url", sa.String(1000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"],
                                name="fk_portal_payment_account_id_core_account"),
        sa.ForeignKeyConstraint(["contact_id"], ["core_contact.id"], ondelete="SET NULL",
                                name="fk_portal_payment_contact_id_core_contact"),
        sa.PrimaryKeyConstraint("id", name="pk_portal_payment"),
        sa.UniqueConstraint("key", name="uq_portal_payment_key"),
    )
    op.create_index("ix_portal_payment_account_id", "portal_payment", ["account_id"])
    op.create_table(
        "portal_branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("tagline", sa.String(200), nullable=False),
        sa.Column("primary_colour", sa.String(7), nullable=False),
        sa.Column("accent_colour", sa.String(7), nullable=False),
        sa.Column("support_email", sa.String(254), nullable=False),
        sa.Column("support_phone", sa.String(30), nullable=False),
        sa.Column("support_url", sa.String(300), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(32), nullable=True),
        sa.Column("autopay_locked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_branding"),
    )


def downgrade() -> None:
    for table in ("portal_branding", "portal_payment", "portal_attempt", "portal_link", "portal_session",
                  "portal_login"):
        op.drop_table(table)
