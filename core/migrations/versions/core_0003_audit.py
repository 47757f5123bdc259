"""core: audit tables

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the audit work


def downgrade() -> None:
    pass
