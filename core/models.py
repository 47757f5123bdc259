"""The core's own tables that are not accounts or auth: job intents and scheduler slots."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .db import TimestampMixin, UTCDateTime, db, utcnow


class JobIntent(TimestampMixin, db.Model):
    """A job, written in the same transaction as the change that causes it (an outbox row).

    Redis/RQ is only the transport: this row is the truth about whether the job ran.
    ``key`` de-duplicates intents (a periodic slot, a per-invoice notice...).
    """

    __tablename__ = "core_job"
    __audit__ = False  # internal bookkeeping: the audit trail records the changes jobs make

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(sa.String(200))
    args: Mapped[list] = mapped_column(sa.JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    queue: Mapped[str] = mapped_column(sa.String(64), default="default")
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    timeout_seconds: Mapped[int] = mapped_column(default=600)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_core_job_status_next", "status", "next_attempt_at"),)
