"""payments_stripe: Stripe customers per account

Revision ID: payments_stripe_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "payments_stripe_0001"
down_revision = None
branch_labels = ("payments_stripe",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payments_stripe_customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stripe_account", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["core_account.id"],
                                name="fk_payments_stripe_customer_account_id_core_account"),
        sa.PrimaryKeyConstraint("id", name="pk_payments_stripe_customer"),
        sa.UniqueConstraint("account_id", "stripe_account",
                            name="uq_payments_stripe_customer_account_id_stripe_account"),
    )
    op.create_index("ix_payments_stripe_customer_account_id", "payments_stripe_customer",
                    ["account_id"])


def downgrade() -> None:
    op.drop_table("payments_stripe_customer")
