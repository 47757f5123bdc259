"""E-mailing reports on a weekly schedule, in the ISP's time zone (``TIMEZONE``).

Every report with a schedule has ``next_run_at`` (UTC). The periodic job :func:`send_due`
(every minute) enqueues one :func:`send_report` job per due report under the key
``reports.send:<id>:<slot>`` — so the same Monday 07:00 is sent once however many
schedulers or retries there are — and moves ``next_run_at`` to the next slot. The job runs
the report as its owner, with the owner's permissions as they are then (a scheduled run has
nobody else to narrow them), and hands the mail to the notifications plugin, which sends it
with retries and its delivery log; the idempotency key per recipient and slot makes a job
that runs twice send nothing more.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from backhaul.sdk import db, enqueue, plugin_enabled, utcnow

from .models import Report

log = logging.getLogger("backhaul.reports")
QUEUE = "reports"
#: rows written into an e-mail body ("inline"); the CSV attachment carries all of them
INLINE_ROWS = 200


def isp_zone() -> ZoneInfo:
    return ZoneInfo(str(current_app.config.get("TIMEZONE") or "UTC"))


def next_run(report: Report, after: datetime) -> datetime | None:
    """The first scheduled moment strictly after ``after`` (UTC), or ``None``."""
    if not report.scheduled:
        return None
    zone = isp_zone()
    hour, minute = (int(x) for x in report.schedule_time.split(":"))
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if str(day.isoweekday()) not in report.schedule_days:
            continue
        moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        if moment > after:
            return moment
    return None


def send_due() -> int:
    """Periodic: enqueue the e-mail of every report whose slot has come. Returns how many."""
    now = utcnow()
    due = db.session.scalars(sa.select(Report).where(Report.next_run_at <= now)
                             .order_by(Report.next_run_at).with_for_update(skip_locked=True)
                             ).all()
    for report in due:
        slot = report.next_run_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
        enqueue(send_report, report.id, slot, key=f"reports.send:{report.id}:{slot}",
                queue=QUEUE, max_attempts=3)
        report.next_run_at = next_run(report, max(now, report.next_run_at))
    db.session.commit()
    return len(due)


def send_report(report_id: int, slot: str) -> str:
    """The job: run one report as its owner and e-mail it to its recipients."""
    from . import reports, table

    report = db.session.get(Report, report_id)
    if report is None or not report.scheduled:
        return "gone"
    if not plugin_enabled("notifications"):
        report.last_error = "the notifications plugin is not enabled: nothing was sent"
        db.session.commit()
        return "no notifications"
    from backhaul.plugins.notifications.api import send_email

    result = reports.run(report)
    if result.refused:  # a report outlives its owner's access: it stops, it does not leak
        report.last_error = "the report's owner is no longer an active staff member: " \
                            "nothing was sent (ask someone else to save it as theirs)"
        db.session.commit()
        return "owner inactive"
    subject, body = _mail(report, result, slot)
    csv_bytes = table.to_csv(result).encode()
    attachments = [(_filename(report, slot), csv_bytes, "text/csv")] \
        if report.schedule_format == "attach" else []
    sent = []
    for to in [r.strip() for r in report.schedule_recipients.split(",") if r.strip()]:
        sent.append(send_email(to, subject, body, attachments=attachments,
                               source="reports.schedule", category="service",
                               dedupe_key=f"{report.id}:{slot}"))
    report.last_sent_at = utcnow()
    report.last_error = None if all(sent) else "no e-mail channel is enabled: nothing was sent"
    db.session.commit()
    return "sent" if all(sent) else "no channel"


def _filename(report: Report, slot: str) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in report.name.lower()).strip("-")
    return f"{safe or 'report'}-{slot[:8]}.csv"


def _mail(report: Report, result, slot: str) -> tuple[str, str]:
    from . import table

    when = datetime.strptime(slot, "%Y%m%dT%H%MZ").replace(tzinfo=UTC).astimezone(isp_zone())
    subject = f"Report: {report.name} ({when:%Y-%m-%d})"
    lines = [f"{report.name}, run {when:%A %d %B %Y %H:%M} ({when.tzname()}): "
             f"{len(result.rows)} rows."]
    if result.errors:
        lines.append("Some fields could not be read with the report owner's permissions:")
        lines += [f"  - {e}" for e in result.errors[:10]]
    if report.schedule_format == "inline":
        lines += ["", table.to_text(result, INLINE_ROWS)]
    else:
        lines.append("The rows are in the attached CSV file.")
    return subject, "\n".join(lines) + "\n"
