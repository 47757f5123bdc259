"""billing: processor events acted on once (webhook deduplication)

Revision ID: billing_0002
Revises: billing_0001
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "billing_0002"
down_revision = "billing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_gateway_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('result', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_billing_gateway_event'),
    sa.UniqueConstraint('gateway', 'event_id', name='uq_billing_gateway_event_gateway_event_id')
    )


def downgrade() -> None:
    op.drop_table('billing_gateway_event')
