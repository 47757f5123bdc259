"""network: sites, devices, subnets, assignments (address history), credentials, reconciles

Revision ID: network_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "network_0001"
down_revision = None
branch_labels = ("network",)
depends_on = None

TS = sa.DateTime(timezone=True)


def _stamps():
    return [sa.Column("created_at", TS, nullable=False), sa.Column("updated_at", TS, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "network_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_network_site"),
        sa.UniqueConstraint("name", name="uq_network_site_name"),
    )
    op.create_table(
        "network_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("vendor", sa.String(64), nullable=False),
        sa.Column("backend", sa.String(100), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("last_reconcile_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["site_id"], ["network_site.id"],
                                name="fk_network_device_site_id_network_site"),
        sa.PrimaryKeyConstraint("id", name="pk_network_device"),
        sa.UniqueConstraint("name", name="uq_network_device_name"),
    )
    op.create_table(
        "network_subnet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(200), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["site_id"], ["network_site.id"],
                                name="fk_network_subnet_site_id_network_site"),
        sa.ForeignKeyConstraint(["parent_id"], ["network_subnet.id"],
                                name="fk_network_subnet_parent_id_network_subnet"),
        sa.ForeignKeyConstraint(["device_id"], ["network_device.id"],
                                name="fk_network_subnet_device_id_network_device"),
        sa.PrimaryKeyConstraint("id", name="pk_network_subnet"),
        sa.UniqueConstraint("cidr", name="uq_network_subnet_cidr"),
    )
    op.create_table(
        "network_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subnet_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("valid_from", TS, nullable=False),
        sa.Column("valid_to", TS, nullable=True),
        sa.ForeignKeyConstraint(["subnet_id"], ["network_subnet.id"],
                                name="fk_network_assignment_subnet_id_network_subnet"),
        sa.PrimaryKeyConstraint("id", name="pk_network_assignment"),
    )
    op.create_index("ix_network_assignment_subnet_id", "network_assignment", ["subnet_id"])
    op.create_index("ix_network_assignment_subscription_id", "network_assignment",
                    ["subscription_id"])
    op.create_index("ix_network_assignment_address", "network_assignment", ["address"])
    op.create_table(
        "network_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("circuit_id", sa.String(100), nullable=True),
        sa.Column("remote_id", sa.String(100), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["device_id"], ["network_device.id"],
                                name="fk_network_credential_device_id_network_device"),
        sa.PrimaryKeyConstraint("id", name="pk_network_credential"),
        sa.UniqueConstraint("subscription_id", name="uq_network_credential_subscription_id"),
        sa.UniqueConstraint("username", name="uq_network_credential_username"),
        sa.UniqueConstraint("mac", name="uq_network_credential_mac"),
    )
    op.create_index("ix_network_credential_device_id", "network_credential", ["device_id"])
    op.create_index("ix_network_credential_account_id", "network_credential", ["account_id"])
    op.create_table(
        "network_reconcile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["network_device.id"],
                                name="fk_network_reconcile_device_id_network_device"),
        sa.PrimaryKeyConstraint("id", name="pk_network_reconcile"),
    )
    op.create_index("ix_network_reconcile_device_id", "network_reconcile", ["device_id"])


def downgrade() -> None:
    for table in ("network_reconcile", "network_credential", "network_assignment",
                  "network_subnet", "network_device", "network_site"):
        op.drop_table(table)
