"""radius: the tables FreeRADIUS's rlm_sql reads (check, reply, nas) and writes (acct)

Revision ID: radius_0002
Revises: radius_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "radius_0002"
down_revision = "radius_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
INET = sa.String(64).with_variant(postgresql.INET(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    for table in ("radius_fr_check", "radius_fr_reply"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("username", sa.Text(), nullable=False),
            sa.Column("attribute", sa.Text(), nullable=False),
            sa.Column("op", sa.String(2), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("subscription_id", sa.Integer(), nullable=True))
        op.create_index(f"ix_{table}_username", table, ["username"])
        op.create_index(f"ix_{table}_subscription_id", table, ["subscription_id"])
    op.create_table(
        "radius_fr_nas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nasname", sa.Text(), nullable=False),
        sa.Column("shortname", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("ports", sa.Integer(), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("server", sa.Text(), nullable=True),
        sa.Column("community", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True))
    text = ("acctsessionid", "acctuniqueid", "username", "realm")
    op.create_table(
        "radius_fr_acct",
        sa.Column("radacctid", BIGID, primary_key=True),
        *[sa.Column(c, sa.Text(), nullable=c in ("username", "realm")) for c in text],
        sa.Column("nasipaddress", INET, nullable=False),
        sa.Column("nasportid", sa.Text()), sa.Column("nasporttype", sa.Text()),
        sa.Column("acctstarttime", TS), sa.Column("acctupdatetime", TS),
        sa.Column("acctstoptime", TS), sa.Column("acctinterval", sa.BigInteger()),
        sa.Column("acctsessiontime", sa.BigInteger()), sa.Column("acctauthentic", sa.Text()),
        sa.Column("connectinfo_start", sa.Text()), sa.Column("connectinfo_stop", sa.Text()),
        sa.Column("acctinputoctets", sa.BigInteger()),
        sa.Column("acctoutputoctets", sa.BigInteger()),
        sa.Column("calledstationid", sa.Text()), sa.Column("callingstationid", sa.Text()),
        sa.Column("acctterminatecause", sa.Text()), sa.Column("servicetype", sa.Text()),
        sa.Column("framedprotocol", sa.Text()), sa.Column("framedipaddress", INET),
        sa.Column("framedipv6address", INET), sa.Column("framedipv6prefix", INET),
        sa.Column("framedinterfaceid", sa.Text()), sa.Column("delegatedipv6prefix", INET),
        sa.Column("class", sa.Text()),
        sa.UniqueConstraint("acctuniqueid"))
    op.create_index("ix_radius_fr_acct_acctupdatetime", "radius_fr_acct", ["acctupdatetime"])


def downgrade() -> None:
    for table in ("radius_fr_acct", "radius_fr_nas", "radius_fr_reply", "radius_fr_check"):
        op.drop_table(table)
