"""poller: interface tables (walks) and SNMPv3 authPriv on templates

Revision ID: poller_0002
Revises: poller_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "poller_0002"
down_revision = "poller_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poller_template") as table:
        table.add_column(sa.Column("snmp_interfaces", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        table.add_column(sa.Column("snmp_version", sa.String(4), nullable=False,
                                   server_default="2c"))
        table.add_column(sa.Column("v3_user", sa.String(64), nullable=False,
                                   server_default=""))
        table.add_column(sa.Column("v3_auth", sa.String(16), nullable=False,
                                   server_default="SHA-256"))
        table.add_column(sa.Column("v3_priv", sa.String(16), nullable=False,
                                   server_default="AES-128"))
        table.add_column(sa.Column("v3_secrets", sa.Text(), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("poller_template") as table:
        for column in ("v3_secrets", "v3_priv", "v3_auth", "v3_user", "snmp_version",
                       "snmp_interfaces"):
            table.drop_column(column)
