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
    items: Mapped[list[JobItem]] = relationship(order_by="JobItem.id",
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


JOB_ITEM_ACTIONS = ("install", "collect")


class JobItem(db.Model):
    """Equipment a job installs (from stock to the job's account) or collects (from the
    account back into a stock location), through the inventory plugin's api when the job is
    completed. ``item_id`` is the inventory plugin's item (no foreign key: optional plugin);
    ``label`` what it was when picked ("Acme LTE Router 5 · serial LTE-0001")."""

    __tablename__ = "scheduling_job_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scheduling_job.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(index=True)
    #: install or collect
    action: Mapped[str] = mapped_column(sa.String(16))
    #: collect: the stock location the item goes back to
    location_id: Mapped[int | None] = mapped_column()
    label: Mapped[str] = mapped_column(sa.String(300), default="")
    done: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.UniqueConstraint("job_id", "item_id", name="uq_scheduling_job_item_job_id_item_id"),
        sa.CheckConstraint("action IN ('install', 'collect')", name="action"),
    )
