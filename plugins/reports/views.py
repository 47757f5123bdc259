"""Staff pages: the list of reports, a form to write one, a report's page (run now, sorted
by a column, CSV download, the e-mail schedule) and delete."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, may, permission_required

from . import definition, reports, table

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

DAYS = [("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"),
        ("7", "Sun")]
EXAMPLE_QUERY = """{
  accounts(first: 100) {
    edges { node { number name status { name } } }
  }
}"""
EXAMPLE_COLUMNS = "node.number | Account\nnode.name | Name\nnode.status.name | Status"


def _get(report_id: int):
    report = reports.get(report_id)
    if report is None:
        abort(404)
    return report


@bp.get("/")
@permission_required("reports.view")
def index():
    return render_template("reports/index.html", rows=reports.listing(),
                           can_manage=may("reports.manage"))


def _form_data() -> dict:
    return {"name": request.form.get("name", ""), "query": request.form.get("query", ""),
            "rowsPath": request.form.get("rowsPath", ""),
            "columns": definition.parse_columns(request.form.get("columns", ""))}


def _edit(report):
    if report is not None and not reports.may_change(report):
        abort(403)
    errors: dict = {}
    if request.method == "POST":
        data = _form_data()
        if report is not None:
            data.update(scheduleDays=report.schedule_days, scheduleTime=report.schedule_time,
                        scheduleRecipients=report.schedule_recipients,
                        scheduleFormat=report.schedule_format)
        try:
            saved = reports.save(data, report)
        except definition.ReportInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            values = {**data, "columns": request.form.get("columns", "")}
            return render_template("reports/edit.html", report=report, values=values,
                                   errors=errors), 422
        except reports.NotAllowed:
            abort(403)
        db.session.commit()
        flash(f"Report '{saved.name}' saved.", "success")
        return redirect(url_for(".show", report_id=saved.id))
    if report is None:
        values = {"name": "", "query": EXAMPLE_QUERY, "rowsPath": "accounts.edges",
                  "columns": EXAMPLE_COLUMNS}
    else:
        values = {"name": report.name, "query": report.query, "rowsPath": report.rows_path,
                  "columns": definition.columns_text(report.columns)}
    return render_template("reports/edit.html", report=report, values=values, errors=errors)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("reports.manage")
def new():
    return _edit(None)


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@permission_required("reports.manage")
def edit(report_id: int):
    return _edit(_get(report_id))


def _sorted(report):
    result = reports.run(report)
    sort = request.args.get("sort", type=int)
    descending = request.args.get("dir") == "desc"
    if sort is not None:
        result = table.sort(result, sort, descending)
    return result, sort, descending


@bp.get("/<int:report_id>")
@permission_required("reports.view")
def show(report_id: int):
    report = _get(report_id)
    result, sort, descending = _sorted(report)
    return render_template("reports/show.html", report=report, result=result, sort=sort,
                           descending=descending, days=DAYS, errors={},
                           can_change=may("reports.manage") and reports.may_change(report))


@bp.get("/<int:report_id>/csv")
@permission_required("reports.view")
def csv(report_id: int):
    report = _get(report_id)
    result, _, _ = _sorted(report)
    name = "".join(ch if ch.isalnum() else "-" for ch in report.name.lower()).strip("-")
    return Response(table.to_csv(result), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name or "report"}.csv"'})


@bp.post("/<int:report_id>/schedule")
@permission_required("reports.manage")
def schedule(report_id: int):
    report = _get(report_id)
    if not reports.may_change(report):
        abort(403)
    days = "".join(request.form.getlist("days"))
    data = {"name": report.name, "query": report.query, "rowsPath": report.rows_path,
            "columns": report.columns, "scheduleDays": days,
            "scheduleTime": request.form.get("time", "") if days else "",
            "scheduleRecipients": request.form.get("recipients", "") if days else "",
            "scheduleFormat": request.form.get("format", "attach")}
    try:
        reports.save(data, report)
    except definition.ReportInvalid as exc:
        db.session.rollback()
        report = _get(report_id)
        result, sort, descending = _sorted(report)
        errors = {k.removeprefix("schedule").lower(): v for k, v in exc.errors.items()}
        return render_template("reports/show.html", report=report, result=result, sort=sort,
                               descending=descending, days=DAYS, errors=errors,
                               can_change=True, form=request.form), 422
    db.session.commit()
    flash("Schedule saved." if days else "The report is no longer e-mailed.", "success")
    return redirect(url_for(".show", report_id=report.id))


@bp.post("/<int:report_id>/delete")
@permission_required("reports.manage")
def delete(report_id: int):
    report = _get(report_id)
    try:
        reports.delete(report)
    except reports.NotAllowed:
        abort(403)
    db.session.commit()
    flash(f"Report '{report.name}' deleted.", "success")
    return redirect(url_for(".index"))
