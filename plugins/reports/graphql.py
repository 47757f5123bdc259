"""GraphQL: reports (list, one), and create / update / delete / schedule / run mutations."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from backhaul.sdk import GraphQLContribution
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    current_user_id,
    mutation_payload,
    paginate,
    parse_id,
    set_aliases,
    sort_order,
)

from . import definition, reports, table
from .models import Report

SDL = (Path(__file__).parent / "schema.graphql").read_text()

query = QueryType()
mutation = MutationType()
report_type = ObjectType("ReportsReport")
set_aliases(report_type, ownerId="owner_id", rowsPath="rows_path",
            scheduleDays="schedule_days", scheduleTime="schedule_time",
            scheduleRecipients="schedule_recipients", scheduleFormat="schedule_format",
            nextRunAt="next_run_at", lastSentAt="last_sent_at", lastError="last_error")
report_type.set_field("canChange", lambda r, _i: reports.may_change(r))


SORTS = {"name": Report.name, "-name": Report.name.desc(),
         "createdAt": Report.created_at, "-createdAt": Report.created_at.desc(),
         "updatedAt": Report.updated_at, "-updatedAt": Report.updated_at.desc()}


def _mine(stmt, value):
    me = current_user_id()
    return stmt.where(Report.owner_id == me if value else Report.owner_id != me)


def _scheduled(stmt, value):
    return stmt.where(Report.schedule_days != "" if value else Report.schedule_days == "")


@query.field("reportsReports")
def resolve_reports(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, SORTS, "name")
    stmt = apply_filters(sa.select(Report), filter, {
        "search": lambda st, v: st.where(Report.name.icontains(v.strip(), autoescape=True)),
        "ownerId": lambda st, v: st.where(Report.owner_id == parse_id(v, "ownerId")),
        "mine": _mine,
        "scheduled": _scheduled,
    })
    return paginate(stmt, first, after, order_by=order_by)


@query.field("reportsReport")
def resolve_report(_obj, _info, id):
    return reports.get(parse_id(id))


def _report(id) -> Report:
    report = reports.get(parse_id(id))
    if report is None:
        raise FieldErrors({"id": [f"there is no report {id}"]})
    return report


def _data(input: dict, report: Report | None = None) -> dict:
    data = {"name": input.get("name"), "query": input.get("query"),
            "rowsPath": input.get("rowsPath"), "columns": input.get("columns") or []}
    if report is not None:  # the schedule stays as it was
        data.update(scheduleDays=report.schedule_days, scheduleTime=report.schedule_time,
                    scheduleRecipients=report.schedule_recipients,
                    scheduleFormat=report.schedule_format)
    return data


def _save(data: dict, report: Report | None) -> dict:
    try:
        return {"report": reports.save(data, report)}
    except definition.ReportInvalid as exc:
        raise FieldErrors(exc.errors) from None
    except reports.NotAllowed as exc:
        raise FieldErrors({"id": [str(exc)]}) from None


@mutation.field("reportsCreateReport")
@mutation_payload
def resolve_create(_obj, _info, input):
    return _save(_data(input), None)


@mutation.field("reportsUpdateReport")
@mutation_payload
def resolve_update(_obj, _info, id, input):
    report = _report(id)
    return _save(_data(input, report), report)


@mutation.field("reportsScheduleReport")
@mutation_payload
def resolve_schedule(_obj, _info, id, input):
    report = _report(id)
    data = {"name": report.name, "query": report.query, "rowsPath": report.rows_path,
            "columns": report.columns, "scheduleDays": input.get("days") or "",
            "scheduleTime": input.get("time") or "",
            "scheduleRecipients": input.get("recipients") or "",
            "scheduleFormat": input.get("format") or "attach"}
    if not data["scheduleDays"]:
        data.update(scheduleTime="", scheduleRecipients="")
    try:
        return {"report": reports.save(data, report)}
    except definition.ReportInvalid as exc:
        raise FieldErrors({k.removeprefix("schedule").lower() if k.startswith("schedule")
                           else k: v for k, v in exc.errors.items()}) from None
    except reports.NotAllowed as exc:
        raise FieldErrors({"id": [str(exc)]}) from None


@mutation.field("reportsDeleteReport")
@mutation_payload
def resolve_delete(_obj, _info, id):
    report = _report(id)
    try:
        reports.delete(report)
    except reports.NotAllowed as exc:
        raise FieldErrors({"id": [str(exc)]}) from None
    return {"report": None}


def _result(report: Report, sort_column, descending) -> dict:
    result = reports.run(report)
    if sort_column is not None:
        result = table.sort(result, sort_column, bool(descending))
    return {"headings": result.headings, "rows": result.rows, "errors": result.errors,
            "truncated": result.truncated, "csv": table.to_csv(result)}


@query.field("reportsResult")
def resolve_result(_obj, _info, id, sortColumn=None, descending=False):  # noqa: N803
    report = reports.get(parse_id(id))
    return None if report is None else _result(report, sortColumn, descending)


@mutation.field("reportsRunReport")
@mutation_payload
def resolve_run(_obj, _info, id, sortColumn=None, descending=False):  # noqa: N803
    return {"result": _result(_report(id), sortColumn, descending)}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(sdl=SDL, bindables=(query, mutation, report_type))
