"""Field jobs: job types with checklists, technicians, booking without conflicts,
completion only with the required tasks done, and the tenant told (booked, rescheduled,
the day before) through the notifications plugin.

Plain functions; none commits. Bad input raises ``marshmallow.ValidationError`` keyed like
the GraphQL inputs. Times are stored in UTC; working hours and "the day before" are the
ISP's (``TIMEZONE``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError

from backhaul.plugins.notifications.api import notify
from backhaul.sdk import current_actor, db, may, plugin_enabled, utcnow
from backhaul.sdk.accounts import get_account

from .models import JOB_ITEM_ACTIONS, Job, JobItem, JobTask, JobType, Technician

MAX_TASKS = 50
MAX_ITEMS = 20


def isp_zone() -> ZoneInfo:
    return ZoneInfo(str(current_app.config.get("TIMEZONE") or "UTC"))


def _name(value, field: str = "name", limit: int = 100) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > limit or "\x00" in name:
        raise ValidationError({field: [f"1-{limit} characters"]})
    return name


def _unique(model, name: str, row) -> None:
    clash = db.session.scalar(sa.select(model.id).where(model.name == name))
    if clash is not None and (row is None or clash != row.id):
        raise ValidationError({"name": [f"'{name}' exists already"]})


def _get(model, value, field: str):
    try:
        row = db.session.get(model, int(value))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise ValidationError({field: [f"there is no {model.__tablename__[11:]} {value}"]})
    return row


def parse_tasks(value) -> list[dict]:
    """Tasks as ``[{"name", "required"}]``, or text: one per line, ``*`` first = required."""
    if isinstance(value, str):
        value = [{"name": line.strip().lstrip("*").strip(),
                  "required": line.strip().startswith("*")}
                 for line in value.splitlines() if line.strip().lstrip("*").strip()]
    tasks = [{"name": _name(t.get("name"), "tasks", 200), "required": bool(t.get("required"))}
             for t in (value or [])]
    if len(tasks) > MAX_TASKS:
        raise ValidationError({"tasks": [f"at most {MAX_TASKS} tasks"]})
    return tasks


def save_job_type(data: dict, row: JobType | None = None) -> JobType:
    name = _name(data.get("name"))
    _unique(JobType, name, row)
    try:
        given = data.get("durationMinutes")
        minutes = 60 if given in (None, "") else int(given)
    except (TypeError, ValueError):
        minutes = -1
    if not 5 <= minutes <= 1440:
        raise ValidationError({"durationMinutes": ["5-1440 minutes"]})
    row = row or JobType()
    row.name, row.duration_minutes = name, minutes
    row.tasks = parse_tasks(data.get("tasks"))
    row.skill = " ".join(str(data.get("skill") or "").split())[:50]
    if "\x00" in row.skill:
        raise ValidationError({"skill": ["must not contain a NUL character"]})
    db.session.add(row)
    db.session.flush()
    return row


def _clock(value, field: str) -> int:
    try:
        hours, minutes = str(value).split(":")
        total = int(hours) * 60 + int(minutes)
    except (TypeError, ValueError):
        total = -1
    if not 0 <= total <= 24 * 60:
        raise ValidationError({field: ["a time such as 08:00"]})
    return total


def save_technician(data: dict, row: Technician | None = None) -> Technician:
    name = _name(data.get("name"))
    _unique(Technician, name, row)
    days = "".join(sorted(set(str(data.get("workDays") or "12345"))))
    if not days or any(d not in "1234567" for d in days):
        raise ValidationError({"workDays": ["ISO weekdays, e.g. 12345 for Monday-Friday"]})
    start = _clock(data.get("workStart") or "08:00", "workStart")
    end = _clock(data.get("workEnd") or "17:00", "workEnd")
    if end <= start:
        raise ValidationError({"workEnd": ["after the start of the day"]})
    skills = data.get("skills") or []
    if isinstance(skills, str):
        skills = skills.split(",")
    if any("\x00" in str(s) for s in skills):
        raise ValidationError({"skills": ["must not contain a NUL character"]})
    row = row or Technician()
    row.name, row.work_days, row.work_start, row.work_end = name, days, start, end
    row.skills = sorted({" ".join(s.split())[:50] for s in skills if s.strip()})[:20]
    db.session.add(row)
    db.session.flush()
    return row


def create_job(data: dict) -> Job:
    """A job of ``typeId`` for ``accountId`` and/or ``ticketId`` (a ticket brings its
    account); its checklist is copied from the type."""
    job_type = _get(JobType, data.get("typeId"), "typeId")
    account_id, ticket_id = data.get("accountId") or None, data.get("ticketId") or None
    if ticket_id is not None:
        ticket = _ticket(ticket_id)
        account_id = account_id or ticket.account_id
        ticket_id = ticket.id
    if account_id is not None:
        try:
            account = get_account(int(account_id))
        except (TypeError, ValueError):
            account = None
        if account is None:
            raise ValidationError({"accountId": [f"there is no account {account_id}"]})
        account_id = account.id
    if account_id is None:
        raise ValidationError({"accountId": ["a job is for an account (or a ticket with one)"]})
    notes = str(data.get("notes") or "")[:10_000]
    if "\x00" in notes:
        raise ValidationError({"notes": ["must not contain a NUL character"]})
    job = Job(type_id=job_type.id, account_id=account_id, ticket_id=ticket_id, status="new",
              notes=notes)
    job.tasks = [JobTask(name=t["name"], required=t["required"]) for t in job_type.tasks]
    db.session.add(job)
    db.session.flush()
    _ticket_note(job, f"Job #{job.id} ({job_type.name}) created for this ticket.")
    return job


def _ticket(ticket_id):
    if not plugin_enabled("tickets"):
        raise ValidationError({"ticketId": ["the tickets plugin is not enabled"]})
    from backhaul.plugins.tickets.api import get_ticket

    try:
        ticket = get_ticket(int(ticket_id))
    except (TypeError, ValueError):
        ticket = None
    if ticket is None:
        raise ValidationError({"ticketId": [f"there is no ticket {ticket_id}"]})
    return ticket


def _ticket_note(job: Job, text: str) -> None:
    if job.ticket_id and plugin_enabled("tickets"):
        from backhaul.plugins.tickets.api import add_note

        try:
            add_note(job.ticket_id, text, "scheduling")
        except LookupError:
            pass


def conflicts(technician: Technician, starts: datetime, ends: datetime,
              job_id: int | None = None) -> list[Job]:
    return list(db.session.scalars(sa.select(Job).where(
        Job.technician_id == technician.id, Job.status == "booked", Job.id != (job_id or -1),
        Job.starts_at < ends, Job.ends_at > starts)))


def _within_hours(technician: Technician, starts: datetime, ends: datetime) -> str | None:
    zone = isp_zone()
    local_start, local_end = starts.astimezone(zone), ends.astimezone(zone)
    if str(local_start.isoweekday()) not in technician.work_days:
        return f"{technician.name} does not work on {local_start:%A}s"
    if local_end.date() != local_start.date():
        return "a job must start and end on the same day"
    begin = local_start.hour * 60 + local_start.minute
    end = local_end.hour * 60 + local_end.minute
    if begin < technician.work_start or end > technician.work_end:
        return (f"{technician.name} works {technician.work_start // 60:02d}:"
                f"{technician.work_start % 60:02d}-{technician.work_end // 60:02d}:"
                f"{technician.work_end % 60:02d}")
    return None


def book(job: Job, technician_id, starts_at: datetime, minutes: int | None = None) -> Job:
    """Book (or move) the job: refused when the technician is busy, off duty or lacks the
    type's skill. The tenant is told (booked, or rescheduled)."""
    if job.status not in ("new", "booked"):
        raise ValidationError({"id": [f"a {job.status} job cannot be booked"]})
    technician = _get(Technician, technician_id, "technicianId")
    if not technician.active:
        raise ValidationError({"technicianId": [f"{technician.name} is not active"]})
    if job.type.skill and job.type.skill not in technician.skills:
        raise ValidationError({"technicianId": [
            f"{technician.name} lacks the skill '{job.type.skill}'"]})
    if starts_at.tzinfo is None:
        raise ValidationError({"startsAt": ["a time with its time zone"]})
    if starts_at < utcnow() - timedelta(minutes=5):
        raise ValidationError({"startsAt": ["in the future"]})
    ends_at = starts_at + timedelta(minutes=minutes or job.type.duration_minutes)
    problem = _within_hours(technician, starts_at, ends_at)
    if problem:
        raise ValidationError({"startsAt": [problem]})
    # one booking per technician at a time (PostgreSQL: serialise on the technician row)
    db.session.execute(sa.select(Technician.id).where(Technician.id == technician.id)
                       .with_for_update())
    clash = conflicts(technician, starts_at, ends_at, job.id)
    if clash:
        other = clash[0]
        when = other.starts_at.astimezone(isp_zone())
        raise ValidationError({"startsAt": [
            f"{technician.name} is booked for job #{other.id} at {when:%Y-%m-%d %H:%M}"]})
    moved = job.status == "booked"
    job.technician_id, job.starts_at, job.ends_at, job.status = (
        technician.id, starts_at, ends_at, "booked")
    db.session.flush()
    _tell(job, "scheduling.job_rescheduled" if moved else "scheduling.job_booked",
          f"{job.id}:{starts_at.isoformat()}:{technician.id}")
    _ticket_note(job, f"Job #{job.id} {'moved to' if moved else 'booked for'} "
                      f"{starts_at.astimezone(isp_zone()):%Y-%m-%d %H:%M} with "
                      f"{technician.name}.")
    return job


def set_task(job: Job, task_id, done: bool) -> JobTask:
    task = next((t for t in job.tasks if str(t.id) == str(task_id)), None)
    if task is None:
        raise ValidationError({"taskId": [f"job #{job.id} has no task {task_id}"]})
    if job.status in ("done", "cancelled"):
        raise ValidationError({"taskId": [f"the job is {job.status}"]})
    task.done = bool(done)
    task.done_at, task.done_by = (utcnow(), str(current_actor())) if done else (None, "")
    return task


def complete(job: Job) -> Job:
    """Done — only with every required task done (the open ones are named). Its equipment
    moves with it, in the same transaction: installed items to the job's account, collected
    ones back into their stock location; one that cannot move (taken from stock meanwhile)
    refuses the completion and names it, and nothing moves."""
    if job.status != "booked":
        raise ValidationError({"id": [f"only a booked job can be completed (this one is "
                                      f"{job.status})"]})
    open_tasks = [t.name for t in job.tasks if t.required and not t.done]
    if open_tasks:
        raise ValidationError({"tasks": ["required tasks are open: " + ", ".join(open_tasks)]})
    _move_items(job)
    job.status, job.completed_at = "done", utcnow()
    _ticket_note(job, f"Job #{job.id} completed.")
    return job


# ------------------------------------------------------------------------- equipment
def _inventory():
    if not plugin_enabled("inventory"):
        raise ValidationError({"itemId": ["the inventory plugin is not enabled"]})
    from backhaul.plugins.inventory import api

    return api


def item_label(item) -> str:
    idents = " ".join(f"{k} {v}" for k, v in sorted(item.identifiers.items()))
    return f"#{item.id} {item.manufacturer} {item.model}" + (f" · {idents}" if idents else "")


#: seeing what is in stock (and what an account holds) is the inventory's to grant
STOCK_PERMISSION = "inventory.view"


def check_may_pick_equipment() -> None:
    """For the page and the mutation that put equipment on a job: the request's principal
    must see the stock too (managing jobs alone does not grant it)."""
    if not may(STOCK_PERMISSION):
        raise ValidationError({"itemId": [f"picking equipment needs the {STOCK_PERMISSION} "
                                          "permission (the stock is the inventory's)"]})


def add_item(job: Job, item_id, action: str, location_id=None) -> JobItem:
    """Put equipment on a job: ``install`` an item that is in stock now, or ``collect`` one
    the job's account holds, back into ``location_id``. Checked again at completion."""
    if job.status not in ("new", "booked"):
        raise ValidationError({"id": [f"the job is {job.status}"]})
    if action not in JOB_ITEM_ACTIONS:
        raise ValidationError({"action": ["install or collect"]})
    api = _inventory()
    try:
        item = api.get_item(int(item_id))
    except (TypeError, ValueError):
        item = None
    if item is None:
        raise ValidationError({"itemId": [f"there is no item {item_id}"]})
    if any(i.item_id == item.id for i in job.items):
        raise ValidationError({"itemId": [f"item #{item.id} is on this job already"]})
    if len(job.items) >= MAX_ITEMS:
        raise ValidationError({"itemId": [f"at most {MAX_ITEMS} items on a job"]})
    location = None
    if action == "install" and item.status != "in_stock":
        raise ValidationError({"itemId": [f"item #{item.id} is {item.status.replace('_', ' ')}"
                                          ", not in stock"]})
    if action == "collect":
        if item.holder != ("account", job.account_id):
            raise ValidationError({"itemId": [f"item #{item.id} is not held by the job's "
                                              "account"]})
        known = dict(api.stock_locations())
        try:
            location = int(location_id)
        except (TypeError, ValueError):
            location = None
        if location not in known:
            raise ValidationError({"locationId": ["choose the stock location it goes back to"]})
    row = JobItem(item_id=item.id, action=action, location_id=location,
                  label=item_label(item)[:300])
    job.items.append(row)
    db.session.flush()
    return row


def remove_item(job: Job, job_item_id) -> None:
    if job.status not in ("new", "booked"):
        raise ValidationError({"id": [f"the job is {job.status}"]})
    row = next((i for i in job.items if str(i.id) == str(job_item_id)), None)
    if row is None:
        raise ValidationError({"jobItemId": [f"job #{job.id} has no equipment {job_item_id}"]})
    job.items.remove(row)
    db.session.flush()


def _move_items(job: Job) -> None:
    if not job.items:
        return
    api = _inventory()
    reference = f"job:{job.id}"
    for row in job.items:
        try:
            with db.session.begin_nested():
                if row.action == "install":
                    api.install_item(row.item_id, "account", job.account_id,
                                     reference=reference, note=f"installed by job #{job.id}")
                else:
                    api.collect_item(row.item_id, row.location_id, reference=reference,
                                     note=f"collected by job #{job.id}")
        except ValidationError as exc:
            said = " ".join(str(m) for v in exc.normalized_messages().values()
                            for m in (v if isinstance(v, list) else [v]))
            raise ValidationError({"items": [f"{row.action} {row.label}: {said}"]}) from None
        row.done = True


def cancel(job: Job) -> Job:
    if job.status == "done":
        raise ValidationError({"id": ["a completed job cannot be cancelled"]})
    job.status = "cancelled"
    return job


def context(job: Job) -> dict:
    when = job.starts_at.astimezone(isp_zone()) if job.starts_at else None
    return {"job": {"number": job.id, "type": job.type.name,
                    "date": f"{when:%A %d %B %Y}" if when else "",
                    "time": f"{when:%H:%M}" if when else "",
                    "technician": job.technician.name if job.technician else ""}}


def _tell(job: Job, event_key: str, dedupe: str) -> None:
    if job.account_id:
        notify(event_key, job.account_id, context(job), dedupe_key=f"{event_key}:{dedupe}")


def send_reminders() -> int:
    """Periodic: tell tenants about tomorrow's visits (ISP day), once per job and time."""
    zone = isp_zone()
    tomorrow = (utcnow().astimezone(zone) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, datetime.min.time(), zone)
    jobs = db.session.scalars(sa.select(Job).where(
        Job.status == "booked", Job.starts_at >= start,
        Job.starts_at < start + timedelta(days=1))).all()
    for job in jobs:
        _tell(job, "scheduling.job_reminder", f"{job.id}:{job.starts_at.isoformat()}")
    return len(jobs)
