"""Staff pages: jobs (list, new — from a ticket in one click), a job (book or move it,
tick its checklist, complete, cancel), a technician's day or week, and the set-up. Every
form posts to an action with a GraphQL mutation behind the same permission."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from backhaul.sdk import (
    TimelineEntry,
    current_plugin_settings,
    db,
    may,
    permission_required,
    plugin_enabled,
)
from backhaul.sdk.accounts import get_account, get_account_by_number
from backhaul.sdk.ui import Filter, form_errors, list_page

from . import jobs
from .models import JOB_STATUSES, Job, JobType, Technician

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling", template_folder="templates",
               static_folder="static", static_url_path="/static")
#: the calendar's drop targets: one every SLOT_MINUTES within a technician's working hours
SLOT_MINUTES = 30


def _choices(model):
    return [(r.id, r.name) for r in db.session.scalars(sa.select(model).order_by(model.name))]


#: how a refused action's fields are named in its message ("" for the job itself)
FIELD_LABELS = {"startsAt": "Time", "technicianId": "Technician", "tasks": "Checklist",
                "taskId": "Task", "id": "", "items": "Equipment", "itemId": "Equipment"}


def _flash_errors(exc: ValidationError) -> None:
    db.session.rollback()
    flash(" ".join((f"{FIELD_LABELS.get(k, k)}: " if FIELD_LABELS.get(k, k) else "")
                   + " ".join(map(str, v)) for k, v in form_errors(exc).items()), "error")


@bp.get("/")
@permission_required("scheduling.job.view")
def index():
    page = list_page(sa.select(Job).options(selectinload(Job.tasks)), sortable={"number": Job.id, "when": Job.starts_at},
                     filters={"status": Filter(Job.status, "Status",
                                               [(s, s) for s in JOB_STATUSES])},
                     default_sort="-number")
    return render_template("scheduling/index.html", page=page, types=dict(_choices(JobType)),
                           technicians=dict(_choices(Technician)), zone=jobs.isp_zone())


@bp.get("/jobs/new")
@permission_required("scheduling.job.manage")
def job_new():
    values = {"ticketId": request.args.get("ticket", ""),
              "accountNumber": request.args.get("account", "")}
    return render_template("scheduling/new.html", values=values, errors={},
                           types=_choices(JobType))


@bp.post("/jobs/new")
@permission_required("scheduling.job.manage")
def job_create():
    values = {k: request.form.get(k, "") for k in ("typeId", "ticketId", "accountNumber",
                                                   "notes")}
    try:
        account_id = None
        if values["accountNumber"].strip():
            account = get_account_by_number(values["accountNumber"].strip())
            if account is None:
                raise ValidationError({"accountNumber": ["there is no such account"]})
            account_id = account.id
        job = jobs.create_job({**values, "accountId": account_id})
    except ValidationError as exc:
        db.session.rollback()
        return render_template("scheduling/new.html", values=values, errors=form_errors(exc),
                               types=_choices(JobType)), 422
    db.session.commit()
    flash(f"Job #{job.id} created: book it on a technician's calendar.", "success")
    return redirect(url_for(".job", job_id=job.id))


def _job(job_id: int) -> Job:
    return db.session.get(Job, job_id) or abort(404)


@bp.get("/jobs/<int:job_id>")
@permission_required("scheduling.job.view")
def job(job_id: int):
    row = _job(job_id)
    account = get_account(row.account_id) if row.account_id else None
    when = row.starts_at.astimezone(jobs.isp_zone()) if row.starts_at else None
    ticket_url = None
    if row.ticket_id:
        try:
            ticket_url = url_for("tickets.show", ticket_id=row.ticket_id)
        except BuildError:  # the tickets plugin is disabled: the job stands alone
            pass
    return render_template("scheduling/job.html", job=row, account=account, when=when,
                           technicians=_choices(Technician), zone=jobs.isp_zone(),
                           ticket_url=ticket_url, **_equipment_choices(row))


def _equipment_choices(job: Job) -> dict:
    """What the job page offers to install (items in stock, searchable) and to collect (what
    the account holds), when the inventory plugin is enabled."""
    if not plugin_enabled("inventory"):
        return {"inventory": False}
    if not may(jobs.STOCK_PERMISSION):
        return {"inventory": True, "stock_hidden": True, "stock_choices": [],
                "held_choices": [], "location_choices": []}
    from backhaul.plugins.inventory import api

    search = request.args.get("stock", "")
    on_job = {i.item_id for i in job.items}
    stock = [(i.id, jobs.item_label(i)) for i in api.items_in_stock(search, 100)
             if i.id not in on_job]
    held = [(i.id, jobs.item_label(i)) for i in (
        api.items_held_by("account", job.account_id) if job.account_id else [])
        if i.id not in on_job]
    return {"inventory": True, "stock_choices": stock, "held_choices": held,
            "stock_search": search, "location_choices": api.stock_locations()}


@bp.post("/jobs/<int:job_id>/items")
@permission_required("scheduling.job.manage")
def job_item_add(job_id: int):
    row = _job(job_id)
    form = request.form
    try:
        jobs.check_may_pick_equipment()
        item = jobs.add_item(row, form.get("itemId"), form.get("action", ""),
                             form.get("locationId"))
    except ValidationError as exc:
        _flash_errors(exc)
        return redirect(url_for(".job", job_id=job_id))
    db.session.commit()
    flash(f"{item.label} will be {'installed' if item.action == 'install' else 'collected'} "
          "when the job is completed.", "success")
    return redirect(url_for(".job", job_id=job_id))


@bp.post("/jobs/<int:job_id>/items/<int:job_item_id>/remove")
@permission_required("scheduling.job.manage")
def job_item_remove(job_id: int, job_item_id: int):
    row = _job(job_id)
    try:
        jobs.remove_item(row, job_item_id)
    except ValidationError as exc:
        _flash_errors(exc)
        return redirect(url_for(".job", job_id=job_id))
    db.session.commit()
    flash("Equipment taken off the job.", "success")
    return redirect(url_for(".job", job_id=job_id))


def _local(value: str) -> datetime:
    try:
        naive = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError({"startsAt": ["a date and time"]}) from None
    return naive.replace(tzinfo=jobs.isp_zone()) if naive.tzinfo is None else naive


def _back_to_calendar() -> str | None:
    """The calendar page a drag came from (only a calendar URL of this site: no open
    redirect)."""
    target = request.form.get("next", "")
    base = url_for(".calendar")
    ok = (target == base or target.startswith(base + "?")) and not any(
        c in target for c in "\\\r\n")
    return target if ok else None


@bp.post("/jobs/<int:job_id>/book")
@permission_required("scheduling.job.manage")
def job_book(job_id: int):
    """Book or move a job: from the job's form, or a job dragged onto a calendar slot (which
    keeps the job's length and returns to the calendar)."""
    row = _job(job_id)
    back = _back_to_calendar() or url_for(".job", job_id=job_id)
    moved = row.status == "booked"
    minutes = int((row.ends_at - row.starts_at).total_seconds() // 60) \
        if moved and row.starts_at and row.ends_at else None
    try:
        jobs.book(row, request.form.get("technicianId"), _local(request.form.get("startsAt")),
                  minutes)
    except ValidationError as exc:
        _flash_errors(exc)
        return redirect(back)
    db.session.commit()
    when = row.starts_at.astimezone(jobs.isp_zone())
    flash(f"Job #{row.id} {'moved to' if moved else 'booked for'} {when:%a %d %b %H:%M} with "
          f"{row.technician.name}; the tenant is told.", "success")
    return redirect(back)


@bp.post("/jobs/<int:job_id>/tasks/<int:task_id>")
@permission_required("scheduling.job.manage")
def job_task(job_id: int, task_id: int):
    row = _job(job_id)
    try:
        jobs.set_task(row, task_id, request.form.get("done") == "1")
    except ValidationError as exc:
        _flash_errors(exc)
        return redirect(url_for(".job", job_id=job_id))
    db.session.commit()
    return redirect(url_for(".job", job_id=job_id))


@bp.post("/jobs/<int:job_id>/complete")
@permission_required("scheduling.job.manage")
def job_complete(job_id: int):
    row = _job(job_id)
    try:
        jobs.complete(row) if request.form.get("action") != "cancel" else jobs.cancel(row)
    except ValidationError as exc:
        _flash_errors(exc)
        return redirect(url_for(".job", job_id=job_id))
    db.session.commit()
    flash(f"Job #{row.id} {row.status}.", "success")
    return redirect(url_for(".job", job_id=job_id))


@bp.get("/calendar")
@permission_required("scheduling.job.view")
def calendar():
    zone = jobs.isp_zone()
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = datetime.now(zone).date()
    week = request.args.get("view") == "week"
    first = day - timedelta(days=day.weekday()) if week else day
    days = [first + timedelta(days=n) for n in range(7 if week else 1)]
    start = datetime.combine(days[0], datetime.min.time(), zone)
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), zone)
    technicians = db.session.scalars(sa.select(Technician).where(Technician.active)
                                     .order_by(Technician.name)).all()
    chosen = request.args.get("technician", "")
    if chosen.isdigit():
        technicians = [t for t in technicians if t.id == int(chosen)]
    booked = db.session.scalars(sa.select(Job).where(
        Job.status.in_(("booked", "done")), Job.starts_at >= start, Job.starts_at < end)
        .order_by(Job.starts_at)).all()
    cells = {(t.id, d): _cell(t, d) for t in technicians for d in days}
    for j in booked:
        local = j.starts_at.astimezone(zone)
        cell = cells.get((j.technician_id, local.date()))
        if cell is None:
            continue
        minute = (local.hour * 60 + local.minute) // SLOT_MINUTES * SLOT_MINUTES
        cell["slots"].get(minute, cell["other"]).append(j)
        length = int((j.ends_at - j.starts_at).total_seconds() // 60)
        cell["busy"].update(range(minute, minute + length, SLOT_MINUTES))
    unbooked = db.session.scalars(sa.select(Job).where(Job.status == "new")
                                  .order_by(Job.id).limit(50)).all()
    return render_template("scheduling/calendar.html", days=days, technicians=technicians,
                           cells=cells, day=day, week=week, zone=zone, chosen=chosen,
                           all_technicians=_choices(Technician), timedelta=timedelta,
                           unbooked=unbooked, here=request.full_path)


def _cell(technician: Technician, day: date) -> dict:
    """One technician's day: ``slots`` (minute of the day -> the jobs starting in that
    slot; the drop targets), ``other`` (jobs outside the working hours) and ``busy`` (the
    slots a job covers); no slots on a day off."""
    slots: dict[int, list] = {}
    if str(day.isoweekday()) in technician.work_days:
        first = -(-technician.work_start // SLOT_MINUTES) * SLOT_MINUTES
        slots = {m: [] for m in range(first, technician.work_end, SLOT_MINUTES)}
    return {"slots": slots, "other": [], "busy": set()}


@bp.get("/map")
@permission_required("scheduling.job.view")
def map_page():
    from . import mapping

    settings = current_plugin_settings("scheduling")
    url = settings.get("map_tile_url", "")
    places = mapping.places()
    tiles = []
    if url and not mapping.tile_url_problem(url):
        _zoom, tiles = mapping.tile_view([p for p in places if p.latitude is not None
                                          and p.longitude is not None], url)
    response = make_response(render_template(
        "scheduling/map.html", places=places, width=mapping.WIDTH, height=mapping.HEIGHT,
        tiles=tiles, attribution=settings.get("map_tile_attribution", "") if tiles else ""))
    if tiles:  # the page's images may come from the tile server too, and only from there
        response.headers["Content-Security-Policy"] = MAP_POLICY.format(
            origin=mapping.tile_origin(url))
    return response


#: the staff UI's policy with the tile server added to img-src (the map page only)
MAP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
              "img-src 'self' data: {origin}; connect-src 'self'; frame-ancestors 'none'; "
              "form-action 'self'; base-uri 'self'; object-src 'none'")


@bp.get("/setup")
@permission_required("scheduling.settings.manage")
def setup():
    return _setup_page({}, {})


def _setup_page(errors, values, status=200):
    return render_template("scheduling/setup.html", errors=errors, values=values,
                           types=db.session.scalars(sa.select(JobType).order_by(
                               JobType.name)).all(),
                           technicians=db.session.scalars(sa.select(Technician).order_by(
                               Technician.name)).all()), status


def _setup_action(prefix: str, work, done: str):
    values = {f"{prefix}.{k}": v for k, v in request.form.items()}
    try:
        work()
    except ValidationError as exc:
        db.session.rollback()
        return _setup_page({f"{prefix}.{k}": v for k, v in form_errors(exc).items()},
                           values, 422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".setup"))


@bp.post("/setup/types")
@permission_required("scheduling.settings.manage")
def type_new():
    return _setup_action("type", lambda: jobs.save_job_type(request.form), "Job type saved.")


@bp.post("/setup/technicians")
@permission_required("scheduling.settings.manage")
def technician_new():
    return _setup_action("tech", lambda: jobs.save_technician(request.form),
                         "Technician saved.")


def timeline_entries(account, limit: int) -> list[TimelineEntry]:
    rows = db.session.scalars(sa.select(Job).where(Job.account_id == account.id)
                              .order_by(Job.id.desc()).limit(limit))
    out = []
    for j in rows:
        try:
            url = url_for("scheduling.job", job_id=j.id)
        except RuntimeError:
            url = None
        when = j.starts_at.astimezone(jobs.isp_zone()) if j.starts_at else None
        out.append(TimelineEntry(
            at=j.completed_at or j.starts_at or j.created_at, kind="job",
            title=f"Job #{j.id} {j.type.name}: {j.status}"
                  + (f" — {when:%Y-%m-%d %H:%M} with {j.technician.name}" if when and
                     j.technician else ""),
            body=", ".join(f"{'✓' if t.done else '·'} {t.name}" for t in j.tasks)[:300],
            url=url, meta={"status": j.status}, permission="scheduling.job.view"))
    return out
