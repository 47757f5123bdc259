"""notifications: short-lived HTML previews of unsaved templates

Revision ID: notifications_0002
Revises: notifications_0001
Create Date: 2026-11-26

Written by hand to match ``HtmlPreview`` in ``backhaul.plugins.notifications.models``.
"""
import sqlalchemy as sa
from alembic import op

revision = "notifications_0002"
down_revision = "notifications_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_preview",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_notifications_preview"),
    )
    op.create_index("ix_notifications_preview_expires_at", "notifications_preview",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_table("notifications_preview")
