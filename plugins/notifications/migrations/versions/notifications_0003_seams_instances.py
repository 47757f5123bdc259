"""notifications: channel settings move to configured instances (secrets encrypted)

Revision ID: notifications_0003_seams
Revises: notifications_0002
Create Date: 2026-12-03

Each channel's settings become a ``core_extension_instance`` row owned by "notifications";
its secret fields (the channel type's ``secret_fields``) are encrypted with the first key of
``BACKHAUL_SECRETS_KEYS`` (migrations run inside the app, so the key ring is there). The
``settings`` column, which held SMTP passwords and webhook secrets in clear, is dropped.
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from backhaul.sdk.instances import encrypt_json

revision = "notifications_0003_seams"
down_revision = "notifications_0002"
branch_labels = None
depends_on = "core_0005_seams"

#: the built-in channel types' secrets (a third-party type's are read from the app if there)
BUILT_IN_SECRETS = {"email_smtp": ("password",), "sms_http": ("password", "token"),
                    "webhook": ("secret",)}
FALLBACK_SECRETS = ("password", "secret", "token", "api_key", "private_key")


def _secrets_of(channel_key: str) -> tuple[str, ...]:
    if channel_key in BUILT_IN_SECRETS:
        return BUILT_IN_SECRETS[channel_key]
    try:
        from backhaul.sdk import registered
        from backhaul.sdk.instances import secret_fields

        return secret_fields(registered("notification_channels")[channel_key])
    except Exception:  # the type's plugin is absent: treat the usual names as secret
        return FALLBACK_SECRETS


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("notifications_channel") as batch:
        batch.add_column(sa.Column("instance_id", sa.Integer(), nullable=True))
    instance = sa.table("core_extension_instance", sa.column("id", sa.Integer),
                        sa.column("owner"), sa.column("kind"), sa.column("extension_key"),
                        sa.column("name"), sa.column("enabled", sa.Boolean),
                        sa.column("settings", sa.JSON), sa.column("secrets"),
                        sa.column("created_at", sa.DateTime(timezone=True)),
                        sa.column("updated_at", sa.DateTime(timezone=True)))
    rows = bind.execute(sa.text("SELECT id, name, channel_key, settings, enabled "
                                "FROM notifications_channel ORDER BY id")).all()
    now = datetime.now(UTC)
    for row in rows:
        settings = row.settings if isinstance(row.settings, dict) else json.loads(row.settings)
        secret = set(_secrets_of(row.channel_key))
        hidden = {k: v for k, v in settings.items() if k in secret and v}
        public = {k: v for k, v in settings.items() if k not in secret}
        new_id = bind.execute(instance.insert().values(
            owner="notifications", kind="notification_channels", extension_key=row.channel_key,
            name=row.name, enabled=bool(row.enabled), settings=public,
            secrets=encrypt_json(hidden), created_at=now, updated_at=now)
            .returning(instance.c.id)).scalar_one()
        bind.execute(sa.text("UPDATE notifications_channel SET instance_id = :i WHERE id = :c"),
                     {"i": new_id, "c": row.id})
    with op.batch_alter_table("notifications_channel") as batch:
        batch.alter_column("instance_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_notifications_channel_instance_id_core_extension_instance",
                                 "core_extension_instance", ["instance_id"], ["id"])
        batch.drop_column("settings")


def downgrade() -> None:
    raise NotImplementedError("secrets were encrypted; restore a backup to go back")
