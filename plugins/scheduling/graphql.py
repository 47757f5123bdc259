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
type SchedulingTask { name: String! required: Boolean! }
input SchedulingTaskInput { name: String! required: Boolean }

type SchedulingJobType {
  id: ID! name: String! durationMinutes: Int! skill: String! tasks: [SchedulingTask!]!
}
input SchedulingJobTypeInput {
  name: String! durationMinutes: Int skill: String tasks: [SchedulingTaskInput!]
}

type SchedulingTechnician {
  id: ID! name: String!
  "ISO weekdays worked, 12345 = Monday-Friday"
  workDays: String!
  "HH:MM, the ISP's time zone"
  workStart: String!
  workEnd: String!
  skills: [String!]!
  active: Boolean!
}
input SchedulingTechnicianInput {
  name: String! workDays: String workStart: String workEnd: String skills: [String!]
}

type SchedulingJobTask {
  id: ID! name: String! required: Boolean! done: Boolean! doneAt: DateTime doneBy: String!
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

type SchedulingJob {
  id: ID!
  "new, booked, done or cancelled"
  status: String!
  type: SchedulingJobType!
  accountId: ID
  ticketId: ID
  technician: SchedulingTechnician
  startsAt: DateTime
  endsAt: DateTime
  notes: String!
  completedAt: DateTime
  tasks: [SchedulingJobTask!]!
  "Equipment the job installs or collects when it completes."
  items: [SchedulingJobItem!]!
}

type SchedulingJobEdge implements Edge { cursor: String! node: SchedulingJob! }
type SchedulingJobConnection implements Connection {
  edges: [SchedulingJobEdge!]! nodes: [SchedulingJob!]! pageInfo: PageInfo! totalCount: Int!
}

input SchedulingJobInput { typeId: ID! accountId: ID ticketId: ID notes: String }

type SchedulingJobPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! job: SchedulingJob
}
type SchedulingJobTypePayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! jobType: SchedulingJobType
}
type SchedulingTechnicianPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! technician: SchedulingTechnician
}

"A building (or lone address) with the tickets and jobs of the accounts living there."
type SchedulingPlace {
  label: String!
  latitude: Float
  longitude: Float
  tickets: Int!
  openTickets: Int!
  jobs: Int!
}

input SchedulingJobFilter {
  "new, booked, done or cancelled"
  status: String
  technicianId: ID
  accountId: ID
  ticketId: ID
  typeId: ID
  "Starting at or after this time (unbooked jobs never match)."
  from: DateTime
  "Starting before this time (unbooked jobs never match)."
  to: DateTime
}
input SchedulingJobTypeFilter {
  "Part of the name (case-insensitive)."
  search: String
  "The skill the type needs (exact; empty: types needing none)."
  skill: String
}
input SchedulingTechnicianFilter {
  "Part of the name (case-insensitive)."
  search: String
  active: Boolean
}

type SchedulingJobTypeEdge implements Edge { cursor: String! node: SchedulingJobType! }
type SchedulingJobTypeConnection implements Connection {
  edges: [SchedulingJobTypeEdge!]! nodes: [SchedulingJobType!]! pageInfo: PageInfo!
  totalCount: Int!
}
type SchedulingTechnicianEdge implements Edge { cursor: String! node: SchedulingTechnician! }
type SchedulingTechnicianConnection implements Connection {
  edges: [SchedulingTechnicianEdge!]! nodes: [SchedulingTechnician!]! pageInfo: PageInfo!
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
  schedulingSetTask(id: ID!, taskId: ID!, done: Boolean!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Complete a booked job; refused while required tasks are open."
  schedulingCompleteJob(id: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  schedulingCancelJob(id: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Equipment to install (an item in stock) or collect (held by the job's account, into locationId); moved when the job completes (inventory plugin)."
  schedulingAddJobItem(id: ID!, itemId: ID!, action: String!, locationId: ID): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  "Take an equipment line off a new or booked job (nothing is moved)."
  schedulingRemoveJobItem(id: ID!, jobItemId: ID!): SchedulingJobPayload!
    @requires(permission: "scheduling.job.manage")
  schedulingSaveJobType(id: ID, input: SchedulingJobTypeInput!): SchedulingJobTypePayload!
    @requires(permission: "scheduling.settings.manage")
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
