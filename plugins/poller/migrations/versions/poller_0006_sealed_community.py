"""poller: the SNMP v2c community is sealed with the SNMPv3 keys

Revision ID: poller_0006
Revises: poller_0005
Create Date: 2026-12-04

A v2c community is the password of a device's SNMP agent; it was stored (and audited) in
clear. Each template's community joins its sealed secrets (``{"community", "auth_key",
"priv_key"}``, encrypted with the first key of ``BACKHAUL_SECRETS_KEYS``: migrations run
inside the app, so the key ring is there); the ``snmp_community`` column is dropped and
``v3_secrets`` becomes ``secrets``.
"""
import sqlalchemy as sa
from alembic import op

from backhaul.sdk.instances import decrypt_json, encrypt_json

revision = "poller_0006"
down_revision = "poller_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, snmp_community, v3_secrets FROM poller_template "
                                "ORDER BY id")).all()
    for row in rows:
        keys = decrypt_json(row.v3_secrets) if row.v3_secrets else {}
        if row.snmp_community:
            keys["community"] = row.snmp_community
        bind.execute(sa.text("UPDATE poller_template SET v3_secrets = :s WHERE id = :i"),
                     {"s": encrypt_json(keys), "i": row.id})
    with op.batch_alter_table("poller_template") as table:
        table.drop_column("snmp_community")
        table.alter_column("v3_secrets", new_column_name="secrets", existing_type=sa.Text(),
                           existing_nullable=False, existing_server_default="")


def downgrade() -> None:
    raise NotImplementedError("communities were encrypted; restore a backup to go back")
