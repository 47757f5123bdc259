"""poller_0006 seals each template's v2c community with its SNMPv3 keys; the clear-text
``snmp_community`` column is gone and the poller still sends the same community."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from test_migrations import app_on, dispose
from test_migrations import empty_database as empty_database  # noqa: F401  (a fixture)

from backhaul.core.db import db
from backhaul.core.migrate import alembic_config
from backhaul.sdk.instances import encrypt_json

KEY = Fernet.generate_key().decode()


def test_communities_are_sealed_and_v3_keys_kept(empty_database, tmp_path):
    from backhaul.plugins.poller.models import Template
    from backhaul.plugins.poller.targets import TemplateSpec

    app = app_on(empty_database(), tmp_path, plugins=["network", "poller"], secrets_keys=KEY)
    try:
        with app.app_context():
            cfg = alembic_config(app)
            command.upgrade(cfg, "core@head")
            command.upgrade(cfg, "network@head")
            command.upgrade(cfg, "poller_0005")
            v3 = encrypt_json({"auth_key": "auth-key-0001", "priv_key": "priv-key-0002"})
            with db.engine.begin() as conn:
                for name, community, secrets in (("v2", "Clear-Comm-91", ""),
                                                 ("v3", "public", v3)):
                    conn.execute(sa.text(
                        "INSERT INTO poller_template (name, interval, icmp_enabled, icmp_count,"
                        " icmp_interval, icmp_timeout, loss_warning, rtt_warning, snmp_enabled,"
                        " snmp_community, snmp_port, snmp_timeout, oids, snmp_version,"
                        " v3_secrets) VALUES (:n, 60, true, 3, 0.2, 1.0, 20, 200, true, :c,"
                        " 161, 1.0, '[]', :v, :s)"),
                        {"n": name, "c": community, "v": "3" if secrets else "2c",
                         "s": secrets})
            command.upgrade(cfg, "poller@head")
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns("poller_template")}
            assert "snmp_community" not in columns and "v3_secrets" not in columns
            with db.engine.connect() as conn:
                stored = str(conn.execute(sa.text("SELECT * FROM poller_template")).all())
            assert "Clear-Comm-91" not in stored
            specs = {t.name: TemplateSpec.of(t) for t in db.session.scalars(sa.select(Template))}
            assert specs["v2"].snmp_community == "Clear-Comm-91"
            assert specs["v3"].snmp_community == "public"
            assert specs["v3"].usm[2] == "auth-key-0001" and specs["v3"].usm[4] == "priv-key-0002"
    finally:
        dispose(app)
