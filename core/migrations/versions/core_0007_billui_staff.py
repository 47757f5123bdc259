"""core: unit access notes, staff settings (time zone, forced password change)

Revision ID: core_0007_billui
Revises: core_0006_seams
Create Date: 2026-12-04

Written by hand to match ``backhaul.core.accounts.models.UnitAccess`` and
``backhaul.core.auth.models.UserSetting``. Side tables (not columns on core_address and
auth_user) so that plugin branches pinned to an older core revision still match the models.
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0007_billui"
down_revision = "core_0006_seams"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "core_unit_access",
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["core_address.id"], ondelete="CASCADE",
                                name="fk_core_unit_access_address_id_core_address"),
        sa.PrimaryKeyConstraint("address_id", name="pk_core_unit_access"),
    )
    op.create_table(
        "auth_user_setting",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], ondelete="CASCADE",
                                name="fk_auth_user_setting_user_id_auth_user"),
        sa.PrimaryKeyConstraint("user_id", name="pk_auth_user_setting"),
    )


def downgrade() -> None:
    op.drop_table("auth_user_setting")
    op.drop_table("core_unit_access")
