"""core: accounts tables

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-25
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the accounts work


def downgrade() -> None:
    pass
