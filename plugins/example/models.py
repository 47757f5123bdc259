"""The example plugin's one table. Its migration is ``migrations/versions/example_0001``.

Tables are prefixed with the plugin's name. Columns are written in SQLAlchemy 2.0 style; the
migration creates exactly these columns, constraints and indexes (a test compares them).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import TimestampMixin, db


class Greeting(TimestampMixin, db.Model):
    """A greeting for someone, optionally about an account."""

    __tablename__ = "example_greeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    message: Mapped[str] = mapped_column(sa.String(300))
    #: the account it is about; a plain id, so the plugin works without the accounts' tables
    account_id: Mapped[int | None] = mapped_column(index=True)
    #: makes creating a greeting idempotent (an event or a job delivered twice)
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    delivered: Mapped[bool] = mapped_column(default=False)
