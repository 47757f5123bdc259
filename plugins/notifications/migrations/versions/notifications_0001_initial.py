"""notifications: channels, templates, messages, attachments, delivery log, notices

Revision ID: notifications_0001
Revises:
Create Date: 2026-11-25

Written by hand to match ``backhaul.plugins.notifications.models`` (names follow the naming
convention of ``backhaul.core.db``). Depends on core_0004 for the accounts' tables.
"""
import sqlalchemy as sa
from alembic import op

revision = "notifications_0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", TS, nullable=False),
            sa.Column("updated_at", TS, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "notifications_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("channel_key", sa.String(64), nullable=False),
        sa.Column("medium", sa.String(32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_channel"),
        sa.UniqueConstraint("name", name="uq_notifications_channel_name"),
    )
    op.create_index("ix_notifications_channel_medium", "notifications_channel", ["medium"])
    op.create_index("uq_notifications_channel_default", "notifications_channel", ["medium"],
                    unique=True, postgresql_where=sa.text("is_default"),
                    sqlite_where=sa.text("is_default"))

    op.create_table(
        "notifications_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(100), nullable=False),
        sa.Column("medium", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_template"),
        sa.UniqueConstraint("event_key", "medium",
                            name="uq_notifications_template_event_key_medium"),
    )

    op.create_table(
        "notifications_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("sms_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recipient_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_notice"),
        sa.CheckConstraint("status IN ('draft', 'sending', 'sent')",
                           name="ck_notifications_notice_status"),
    )

    op.create_table(
        "notifications_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("event_key", sa.String(100), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("medium", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(500), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("provider_id", sa.String(300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_message"),
        sa.UniqueConstraint("idempotency_key", name="uq_notifications_message_idempotency_key"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="SET NULL",
                                name="fk_notifications_message_account_id_core_account"),
        sa.ForeignKeyConstraint(["contact_id"], ["core_contact.id"], ondelete="SET NULL",
                                name="fk_notifications_message_contact_id_core_contact"),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["notifications_channel.id"],
            name="fk_notifications_message_channel_id_notifications_channel"),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notifications_notice.id"], ondelete="SET NULL",
            name="fk_notifications_message_notice_id_notifications_notice"),
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')",
                           name="ck_notifications_message_status"),
    )
    for column in ("event_key", "account_id", "channel_id", "notice_id", "status"):
        op.create_index(f"ix_notifications_message_{column}", "notifications_message", [column])

    op.create_table(
        "notifications_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_attachment"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["notifications_message.id"], ondelete="CASCADE",
            name="fk_notifications_attachment_message_id_notifications_message"),
    )
    op.create_index("ix_notifications_attachment_message_id", "notifications_attachment",
                    ["message_id"])

    op.create_table(
        "notifications_delivery_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_delivery_log"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["notifications_message.id"], ondelete="CASCADE",
            name="fk_notifications_delivery_log_message_id_notifications_message"),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["notifications_channel.id"],
            name="fk_notifications_delivery_log_channel_id_notifications_channel"),
        sa.CheckConstraint("event IN ('queued', 'sent', 'retry', 'failed', 'cancelled')",
                           name="ck_notifications_delivery_log_event"),
    )
    op.create_index("ix_notifications_delivery_log_message_id", "notifications_delivery_log",
                    ["message_id"])
    op.create_index("ix_notifications_delivery_log_channel_at", "notifications_delivery_log",
                    ["channel_id", "at"])

    op.create_table(
        "notifications_unsubscribe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("medium", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_unsubscribe"),
        sa.ForeignKeyConstraint(["contact_id"], ["core_contact.id"], ondelete="CASCADE",
                                name="fk_notifications_unsubscribe_contact_id_core_contact"),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"], ondelete="CASCADE",
                                name="fk_notifications_unsubscribe_account_id_core_account"),
    )
    op.create_index("ix_notifications_unsubscribe_contact_id", "notifications_unsubscribe",
                    ["contact_id"])
    op.create_index("ix_notifications_unsubscribe_account_id", "notifications_unsubscribe",
                    ["account_id"])


def downgrade() -> None:
    for table in ("notifications_unsubscribe", "notifications_delivery_log",
                  "notifications_attachment", "notifications_message", "notifications_notice",
                  "notifications_template", "notifications_channel"):
        op.drop_table(table)
