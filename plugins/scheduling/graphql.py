"""GraphQL for field jobs: every page action, behind the same permission, with field errors."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from backhaul.sdk import GraphQLContribution, db
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    mutation_payload,
    paginate,
    parse_id,
    set_aliases,
    sort_order,
)

from . import jobs
from .models import JOB_STATUSES, Job, JobType, Technician

SDL = '''
"A step of a job type, copied onto each new job of that type."
type SchedulingTask {
  "What to do, at most 200 characters."
  name: String!
  "A job cannot be completed while this task is open."
  required: Boolean!
}
"A step of a job type (at most 50 per type)."
input SchedulingTaskInput {
  "What to do, 1-200 characters."
  name: String!
  "Must be done before the job can be completed (default false)."
  required: Boolean
}

"A kind of field job (installation, repair, survey...) with its duration, skill and tasks."
type SchedulingJobType {
  "The job type's id (typeId in inputs and filters)."
  id: ID!
  "The name, unique, at most 100 characters."
  name: String!
  "How long a booking lasts, in minutes (5-1440)."
  durationMinutes: Int!
  "The skill a technician needs to be booked for it (empty: none)."
  skill: String!
  "The steps copied onto each new job, in order."
  tasks: [SchedulingTask!]!
}
"A job type; tasks replace the stored ones (existing jobs keep theirs)."
input SchedulingJobTypeInput {
  "The name, 1-100 characters, unique."
  name: String!
  "Minutes a booking lasts, 5-1440 (left out: 60)."
  durationMinutes: Int
  "The skill a technician needs, at most 50 characters (left out: none)."
  skill: String
  "The steps, at most 50 (left out: none)."
  tasks: [SchedulingTaskInput!]
}

"A field technician jobs are booked for, with working hours and skills."
type SchedulingTechnician {
  "The technician's id (technicianId in arguments and filters)."
  id: ID!
  "The name, unique, at most 100 characters."
  name: String!
  "ISO weekdays worked, 12345 = Monday-Friday"
  workDays: String!
  "HH:MM, the ISP's time zone"
  workStart: String!
  "HH:MM, the ISP's time zone: bookings end by then."
  workEnd: String!
  "The skills held, e.g. fiber, wifi (a job type's skill must be among them)."
  skills: [String!]!
  "Offered for new bookings (false: kept for history only)."
  active: Boolean!
}
"A technician's name, working days and hours, and skills."
input SchedulingTechnicianInput {
  "The name, 1-100 characters, unique."
  name: String!
  "ISO weekdays worked, e.g. 12345 for Monday-Friday (the default)."
  workDays: String
  "HH:MM, the ISP's time zone (left out: 08:00)."
  workStart: String
  "HH:MM, after workStart (left out: 17:00)."
  workEnd: String
  "The skills held, each at most 50 characters, at most 20."
  skills: [String!]
}

"A task of one job, ticked off in the field."
type SchedulingJobTask {
  "The task's id (taskId of schedulingSetTask)."
  id: ID!
  "What to do."
  name: String!
  "The job cannot be completed while this task is open."
  required: Boolean!
  "Ticked off."
  done: Boolean!
  "When it was ticked off (UTC); null while open."
  doneAt: DateTime
  "Who ticked it off (empty while open)."
  doneBy: String!
}

"Equipment a job installs (to its account) or collects (into a stock location) on completion."
type SchedulingJobItem {
  "The id of this equipment line on the job (jobItemId of schedulingRemoveJobItem)."
  id: ID!
  "The inventory plugin's item."
  itemId: ID!
  "install or collect"
  action: String!
  "collect: the stock location the item goes back into; null for install."
  locationId: ID
  "The item as it was when picked: its number, make, model and identifiers, e.g. #12 Acme LTE Router 5 · serial LTE-0001."
  label: String!
  "Moved (at the job's completion)."
  done: Boolean!
}

"A visit to a customer: its type, account (and ticket), technician, time slot and tasks."
type SchedulingJob {
  "The job's id."
  id: ID!
  "new, booked, done or cancelled"
  status: String!
  "The kind of job."
  type: SchedulingJobType!
  "The customer account visited."
  accountId: ID
  "The ticket the job was made from (null: none)."
  ticketId: ID
  "The technician booked (null: not booked)."
  technician: SchedulingTechnician
  "The booked start (UTC); null until booked."
  startsAt: DateTime
  "The booked end (UTC): start plus the type's duration; null until booked."
  endsAt: DateTime
  "Free-text notes for the technician."
  notes: String!
  "When it was completed (UTC); null until done."
  completedAt: DateTime
  "The job's tasks, in order."
  tasks: [SchedulingJobTask!]!
  "Equipment the job installs or collects when it completes."
  items: [SchedulingJobItem!]!
}

"One job of a page, with its cursor."
type SchedulingJobEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The job."
  node: SchedulingJob!
}
"A page of jobs, with the total count."
type SchedulingJobConnection implements Connection {
  "The jobs of this page, each with its cursor."
  edges: [SchedulingJobEdge!]!
  "The jobs of this page (the edges' nodes)."
  nodes: [SchedulingJob!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many jobs match the filter, across all pages."
  totalCount: Int!
}

"A new job, for an account or for a ticket (its account)."
input SchedulingJobInput {
  "The job type."
  typeId: ID!
  "The account to visit (left out: the ticket's account)."
  accountId: ID
  "The ticket the job is for (it gets a note at each step)."
  ticketId: ID
  "Notes for the technician, at most 10,000 characters."
  notes: String
}

"The result of a change to a job."
type SchedulingJobPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The job as it is now; null when not ok."
  job: SchedulingJob
}
"The result of saving a job type."
type SchedulingJobTypePayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The job type as saved; null when not ok."
  jobType: SchedulingJobType
}
"The result of saving a technician."
type SchedulingTechnicianPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The technician as saved; null when not ok."
  technician: SchedulingTechnician
}

"A building (or lone address) with the tickets and jobs of the accounts living there."
type SchedulingPlace {
  "The building's name, or the address on one line."
  label: String!
  "Degrees north (the building's, else the address's); null: not located."
  latitude: Float
  "Degrees east (the building's, else the address's); null: not located."
  longitude: Float
  "Tickets of the accounts living there, all statuses (0 without tickets.ticket.view)."
  tickets: Int!
  "Of those, the ones waiting for staff (new or open)."
  openTickets: Int!
  "Jobs of the accounts living there, all statuses."
  jobs: Int!
}

"Narrows schedulingJobs; every given value must match."
input SchedulingJobFilter {
  "new, booked, done or cancelled"
  status: String
  "Only jobs booked for this technician."
  technicianId: ID
  "Only jobs for this account."
  accountId: ID
  "Only jobs made from this ticket."
  ticketId: ID
  "Only jobs of this type."
  typeId: ID
  "Starting at or after this time (unbooked jobs never match)."
  from: DateTime
  "Starting before this time (unbooked jobs never match)."
  to: DateTime
}
"Narrows schedulingJobTypes; every given value must match."
input SchedulingJobTypeFilter {
  "Part of the name (case-insensitive)."
  search: String
  "The skill the type needs (exact; empty: types needing none)."
  skill: String
}
"Narrows schedulingTechnicians; every given value must match."
input SchedulingTechnicianFilter {
  "Part of the name (case-insensitive)."
  search: String
  "Only technicians offered for bookings (true) or retired (false)."
  active: Boolean
}

"One job type of a page, with its cursor."
type SchedulingJobTypeEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The job type."
  node: SchedulingJobType!
}
"A page of job types, with the total count."
type SchedulingJobTypeConnection implements Connection {
  "The job types of this page, each with its cursor."
  edges: [SchedulingJobTypeEdge!]!
  "The job types of this page (the edges' nodes)."
  nodes: [SchedulingJobType!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many job types match the filter, across all pages."
  totalCount: Int!
}
"One technician of a page, with its cursor."
type SchedulingTechnicianEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The technician."
  node: SchedulingTechnician!
}
"A page of technicians, with the total count."
type SchedulingTechnicianConnection implements Connection {
  "The technicians of this page, each with its cursor."
  edges: [SchedulingTechnicianEdge!]!
  "The technicians of this page (the edges' nodes)."
  nodes: [SchedulingTechnician!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many technicians match the filter, across all pages."
  totalCount: Int!
}

extend type Query {
  "Buildings and addresses by tickets and jobs, busiest first (tickets only with tickets.ticket.view)."
  schedulingMap(limit: Int = 100): [SchedulingPlace!]! @requires(permission: "scheduling.job.view")
  "Field jobs."
  schedulingJobs(filter: SchedulingJobFilter, first: Int, after: String,
                 "-createdAt (the default), createdAt"
                 sort: String): SchedulingJobConnection!
    @requires(permission: "scheduling.job.view")
  "One job by id (null: no such job)."
  schedulingJob(id: ID!): SchedulingJob @requires(permission: "scheduling.job.view")
  "The kinds of job (installation, repair...)."
  schedulingJobTypes(filter: SchedulingJobTypeFilter, first: Int, after: String,
                     "name (the default), -name, durationMinutes, -durationMinutes"
                     sort: String): SchedulingJobTypeConnection!
    @requires(permission: "scheduling.job.view")
  "The field technicians."
  schedulingTechnicians(filter: SchedulingTechnicianFilter, first: Int, after: String,
                        "name (the default), -name, createdAt, -createdAt"
                        sort: String): SchedulingTechnicianConnection!
    @requires(permission: "scheduling.job.view")
}

extend type Mutation {
  "A job for an account, or for a ticket (its account): the ticket becomes a job."
  schedulingCreateJob(input: SchedulingJobInput!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Book or move a job; refused when the technician is busy, off duty or lacks the skill."
  schedulingBookJob(id: ID!, technicianId: ID!, startsAt: DateTime!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Tick a task of a new or booked job off (done true) or on again."
  schedulingSetTask(id: ID!, taskId: ID!, done: Boolean!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Complete a booked job; refused while required tasks are open."
  schedulingCompleteJob(id: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Cancel a job that is not done (its booking is freed)."
  schedulingCancelJob(id: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Equipment to install (an item in stock) or collect (held by the job's account, into locationId); moved when the job completes (inventory plugin)."
  schedulingAddJobItem(id: ID!, itemId: ID!, action: String!, locationId: ID): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Take an equipment line off a new or booked job (nothing is moved)."
  schedulingRemoveJobItem(id: ID!, jobItemId: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Create (no id) or change a job type."
  schedulingSaveJobType(id: ID, input: SchedulingJobTypeInput!): SchedulingJobTypePayload!
    @requires(permission: "scheduling.settings.manage")
  "Create (no id) or change a technician."
  schedulingSaveTechnician(id: ID, input: SchedulingTechnicianInput!): SchedulingTechnicianPayload!
    @requires(permission: "scheduling.settings.manage")
}
'''

query = QueryType()
mutation = MutationType()
job_type = ObjectType("SchedulingJob")
type_type = ObjectType("SchedulingJobType")
tech_type = ObjectType("SchedulingTechnician")
task_type = ObjectType("SchedulingJobTask")
item_type = ObjectType("SchedulingJobItem")
set_aliases(item_type, "itemId", "locationId")
set_aliases(job_type, "accountId", "ticketId", "startsAt", "endsAt", "completedAt")
set_aliases(type_type, "durationMinutes")
set_aliases(tech_type, "workDays")
set_aliases(task_type, "doneAt", "doneBy")
tech_type.set_field("workStart", lambda t, _i: f"{t.work_start // 60:02d}:{t.work_start % 60:02d}")
tech_type.set_field("workEnd", lambda t, _i: f"{t.work_end // 60:02d}:{t.work_end % 60:02d}")


def _get(model, value, field: str = "id"):
    row = db.session.get(model, parse_id(value, field))
    if row is None:
        raise FieldErrors({field: [f"There is no {model.__tablename__[11:]} {value}."]})
    return row


def _filters(stmt, values, fields):
    """``apply_filters`` after refusing text with a NUL character (the database cannot
    compare it: it would be a server error, not an empty page)."""
    for name, value in (values or {}).items():
        if isinstance(value, str) and "\x00" in value:
            raise FieldErrors({name: ["must not contain a NUL character"]})
    return apply_filters(stmt, values, fields)


JOB_SORTS = {"-createdAt": Job.created_at.desc(), "createdAt": Job.created_at}


def _id_is(column, name: str):
    return lambda stmt, value: stmt.where(column == parse_id(value, name))


def _name_contains(column):
    def where(stmt, value):
        text = " ".join(str(value).split())[:100]
        return stmt.where(column.icontains(text, autoescape=True)) if text else stmt
    return where


def _status(stmt, value):
    if value not in JOB_STATUSES:
        raise FieldErrors({"status": [f"one of {', '.join(JOB_STATUSES)}"]})
    return stmt.where(Job.status == value)


@query.field("schedulingJobs")
def resolve_jobs(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, JOB_SORTS, "-createdAt")
    stmt = _filters(sa.select(Job).options(
        joinedload(Job.type), joinedload(Job.technician), selectinload(Job.tasks),
        selectinload(Job.items)), filter, {
        "status": _status, "technicianId": _id_is(Job.technician_id, "technicianId"),
        "accountId": _id_is(Job.account_id, "accountId"),
        "ticketId": _id_is(Job.ticket_id, "ticketId"), "typeId": _id_is(Job.type_id, "typeId"),
        "from": (Job.starts_at, "gte"), "to": (Job.starts_at, "lt")})
    return paginate(stmt, first, after, order_by=order_by)


query.set_field("schedulingJob", lambda _o, _i, id: db.session.get(Job, parse_id(id)))
place_type = ObjectType("SchedulingPlace")
set_aliases(place_type, "openTickets")


@query.field("schedulingMap")
def resolve_map(_obj, _info, limit=100):
    from . import mapping

    return mapping.places()[:max(1, min(limit or 100, 1000))]


@query.field("schedulingJobTypes")
def resolve_job_types(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    order_by = sort_order(sort, {
        "name": JobType.name, "-name": JobType.name.desc(),
        "durationMinutes": JobType.duration_minutes,
        "-durationMinutes": JobType.duration_minutes.desc()}, "name")
    stmt = _filters(sa.select(JobType), filter, {
        "search": _name_contains(JobType.name), "skill": JobType.skill})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("schedulingTechnicians")
def resolve_technicians(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                        sort=None):
    order_by = sort_order(sort, {
        "name": Technician.name, "-name": Technician.name.desc(),
        "createdAt": Technician.created_at, "-createdAt": Technician.created_at.desc()},
        "name")
    stmt = _filters(sa.select(Technician), filter, {
        "search": _name_contains(Technician.name),
        "active": lambda s, v: s.where(Technician.active.is_(bool(v)))})
    return paginate(stmt, first, after, order_by=order_by)


@mutation.field("schedulingCreateJob")
@mutation_payload
def resolve_create(_obj, _info, input):  # noqa: A002
    data = dict(input)
    for key in ("typeId", "accountId", "ticketId"):
        if data.get(key):
            data[key] = parse_id(data[key], key)
    return {"job": jobs.create_job(data)}


@mutation.field("schedulingBookJob")
@mutation_payload
def resolve_book(_obj, _info, id, technicianId, startsAt):  # noqa: A002, N803
    return {"job": jobs.book(_get(Job, id), parse_id(technicianId, "technicianId"), startsAt)}


@mutation.field("schedulingSetTask")
@mutation_payload
def resolve_task(_obj, _info, id, taskId, done):  # noqa: A002, N803
    job = _get(Job, id)
    jobs.set_task(job, parse_id(taskId, "taskId"), done)
    return {"job": job}


@mutation.field("schedulingCompleteJob")
@mutation_payload
def resolve_complete(_obj, _info, id):  # noqa: A002
    return {"job": jobs.complete(_get(Job, id))}


@mutation.field("schedulingCancelJob")
@mutation_payload
def resolve_cancel(_obj, _info, id):  # noqa: A002
    return {"job": jobs.cancel(_get(Job, id))}


@mutation.field("schedulingAddJobItem")
@mutation_payload
def resolve_add_item(_obj, _info, id, itemId, action, locationId=None):  # noqa: A002, N803
    job = _get(Job, id)
    jobs.check_may_pick_equipment()
    jobs.add_item(job, parse_id(itemId, "itemId"), action,
                  parse_id(locationId, "locationId") if locationId else None)
    return {"job": job}


@mutation.field("schedulingRemoveJobItem")
@mutation_payload
def resolve_remove_item(_obj, _info, id, jobItemId):  # noqa: A002, N803
    job = _get(Job, id)
    jobs.remove_item(job, parse_id(jobItemId, "jobItemId"))
    return {"job": job}


@mutation.field("schedulingSaveJobType")
@mutation_payload
def resolve_save_type(_obj, _info, input, id=None):  # noqa: A002
    return {"jobType": jobs.save_job_type(dict(input), _get(JobType, id) if id else None)}


@mutation.field("schedulingSaveTechnician")
@mutation_payload
def resolve_save_tech(_obj, _info, input, id=None):  # noqa: A002
    return {"technician": jobs.save_technician(dict(input),
                                               _get(Technician, id) if id else None)}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, job_type, type_type, tech_type,
                                     task_type, place_type, item_type))
