"""The scheduling plugin's tables (prefix ``scheduling_``); migration ``scheduling_0001``.

* :class:`JobType` — a kind of visit (installation, repair...) with a default duration and a
  task checklist (``[{"name": ..., "required": bool}]``), copied onto each job.
* :class:`Technician` — who goes: working days and hours (in the ISP's time zone), skills.
* :class:`Job` — one visit: account, ticket (the tickets plugin's id, no foreign key: that
  plugin may be disabled), type, technician, time; :class:`JobTask` its checklist.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.sdk import TimestampMixin, UTCDateTime, db

JOB_STATUSES = ("new", "booked", "done", "cancelled")


class JobType(TimestampMixin, db.Model):
    __tablename__ = "scheduling_job_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    #: ``[{"name": "Mount the ONT", "required": true}, ...]``
    tasks: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: a technician needs this skill to be booked (empty: anyone)
    skill: Mapped[str] = mapped_column(sa.String(50), default="")


class Technician(TimestampMixin, db.Model):
    __tablename__ = "scheduling_technician"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: ISO weekdays worked, "12345" = Monday to Friday
    work_days: Mapped[str] = mapped_column(sa.String(7), default="12345")
    #: minutes after midnight, ISP time
    work_start: Mapped[int] = mapped_column(default=8 * 60)
    work_end: Mapped[int] = mapped_column(default=17 * 60)
    skills: Mapped[list] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Job(TimestampMixin, db.Model):
    __tablename__ = "scheduling_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(sa.ForeignKey("scheduling_job_type.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="new", index=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="SET NULL"), index=True)
    #: the tickets plugin's ticket this visit answers (no foreign key: optional plugin)
    ticket_id: Mapped[int | None] = mapped_column(index=True)
    technician_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scheduling_technician.id"), index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    type: Mapped[JobType] = relationship()
    technician: Mapped[Technician | None] = relationship()
    tasks: Mapped[list[JobTask]] = relationship(order_by="JobTask.id",
                                                cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("status IN ('new', 'booked', 'done', 'cancelled')", name="status"),
    )


class JobTask(db.Model):
    __tablename__ = "scheduling_job_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scheduling_job.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    required: Mapped[bool] = mapped_column(default=False)
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str] = mapped_column(sa.String(300), default="")
