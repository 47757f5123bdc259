"""Saving, deleting and running reports; who may touch which.

Every staff member holding ``reports.view`` sees the list and may run any report — with at
most the permissions of its owner (and never more than their own). Saving needs
``reports.manage``; a report is changed or deleted by its owner only, or by someone holding
``reports.admin``; the owner never changes (the permissions it runs with stay the ones of
the person who wrote it).
"""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db, may, utcnow
from backhaul.sdk.graphql import current_user_id, run_query_as

from . import definition, schedule, table
from .models import Report

#: reports one person may own: each runs on every page view and on its schedule, so the
#: work one account can cause stays bounded
MAX_PER_OWNER = 200


class NotAllowed(PermissionError):
    pass


def listing() -> list[Report]:
    return list(db.session.scalars(sa.select(Report).order_by(Report.name)))


def get(report_id: int) -> Report | None:
    return db.session.get(Report, report_id)


def may_change(report: Report) -> bool:
    return report.owner_id == current_user_id() or may("reports.admin")


def save(data: dict, report: Report | None = None) -> Report:
    """Create (owned by the person acting) or update a report; caller commits.

    Raises :class:`definition.ReportInvalid` (field errors) or :class:`NotAllowed`."""
    if report is not None and not may_change(report):
        raise NotAllowed("only the report's owner (or reports.admin) may change it")
    owner = current_user_id() if report is None else report.owner_id
    if owner is None:
        raise NotAllowed("reports are owned by a staff member: sign in or use your own token")
    values = definition.clean(data)
    if report is None and db.session.scalar(sa.select(sa.func.count(Report.id)).where(
            Report.owner_id == owner)) >= MAX_PER_OWNER:
        raise definition.ReportInvalid({"_schema": [
            f"you own {MAX_PER_OWNER} reports, the most one person may: delete one first"]})
    clash = db.session.scalar(sa.select(Report.id).where(
        Report.name == values["name"], Report.id != (report.id if report else -1)))
    if clash:
        raise definition.ReportInvalid({"name": [f"a report named '{values['name']}' "
                                                 "exists already"]})
    report = report or Report(owner_id=owner)
    for key, value in values.items():
        setattr(report, key, value)
    report.next_run_at = schedule.next_run(report, utcnow())
    db.session.add(report)
    db.session.flush()  # the audit trail records the change (models are audited)
    return report


def delete(report: Report) -> None:
    if not may_change(report):
        raise NotAllowed("only the report's owner (or reports.admin) may delete it")
    db.session.delete(report)
    db.session.flush()


def run(report: Report) -> table.Table:
    """Run the report now, as its owner (narrowed to the person asking, if any)."""
    response = run_query_as(report.owner_id, report.query)
    return table.build(response, report.rows_path, report.columns)
