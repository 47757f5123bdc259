"""The reports plugin's table: a saved report, its columns and its e-mail schedule.

A report belongs to the staff member who saved it (``owner_id``): it always runs with that
person's permissions as they are when it runs (``backhaul.sdk.graphql.run_query_as``).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import TimestampMixin, UTCDateTime, db


class Report(TimestampMixin, db.Model):
    __tablename__ = "reports_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    owner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    #: a GraphQL query document (validated against the schema when saved)
    query: Mapped[str] = mapped_column(sa.Text)
    #: dotted path to the list of rows in the answer ("billingInvoices.edges")
    rows_path: Mapped[str] = mapped_column(sa.String(300))
    #: ``[{"path": "node.number", "heading": "Invoice"}, ...]`` relative to a row
    columns: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: the e-mail schedule: weekdays as ISO digits ("1" Monday ... "7" Sunday), a local time
    #: ("07:00") in the ISP's time zone, recipients (comma separated) and how the CSV goes
    schedule_days: Mapped[str] = mapped_column(sa.String(7), default="")
    schedule_time: Mapped[str] = mapped_column(sa.String(5), default="")
    schedule_recipients: Mapped[str] = mapped_column(sa.String(1000), default="")
    schedule_format: Mapped[str] = mapped_column(sa.String(10), default="attach")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))

    @property
    def scheduled(self) -> bool:
        return bool(self.schedule_days and self.schedule_time and self.schedule_recipients)
