"""notifications_0003_seams moves each channel's stored settings into a configured instance,
encrypting its secrets; the clear-text ``settings`` column is gone afterwards."""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from test_migrations import app_on, dispose
from test_migrations import empty_database as empty_database  # noqa: F401  (a fixture)

from backhaul.core.db import db
from backhaul.core.migrate import alembic_config
from backhaul.plugins.notifications.models import ChannelConfig

KEY = Fernet.generate_key().decode()
OLD = {"host": "smtp.isp.example", "port": 587, "security": "starttls", "username": "mailer",
       "password": "Old-Clear-Text-Pass", "from_address": "billing@isp.example.net",
       "from_name": "", "reply_to": "", "timeout": 20, "verify_tls": True}


def test_stored_channel_settings_are_migrated_and_their_secrets_encrypted(empty_database,
                                                                          tmp_path):
    app = app_on(empty_database(), tmp_path, plugins=["notifications"], secrets_keys=KEY)
    try:
        with app.app_context():
            cfg = alembic_config(app)
            command.upgrade(cfg, "core@head")
            command.upgrade(cfg, "notifications_0002")
            with db.engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO notifications_channel (name, channel_key, medium, settings, "
                    "enabled, is_default, rate_limit_per_minute, created_at, updated_at) "
                    "VALUES ('Office', 'email_smtp', 'email', :s, true, true, 0, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"s": json.dumps(OLD)})
            command.upgrade(cfg, "notifications@head")
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns(
                "notifications_channel")}
            assert "settings" not in columns and "instance_id" in columns
            with db.engine.connect() as conn:
                text = json.dumps([{k: str(v) for k, v in r.items()} for r in conn.execute(
                    sa.text("SELECT * FROM core_extension_instance")).mappings()])
            assert "Old-Clear-Text-Pass" not in text
            row = db.session.scalar(sa.select(ChannelConfig))
            assert row.settings == OLD, "the channel reads back exactly what it had"
    finally:
        dispose(app)
