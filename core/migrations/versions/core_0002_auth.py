"""core: auth tables

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the auth work


def downgrade() -> None:
    pass
