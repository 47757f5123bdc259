"""GraphQL: the accounts kernel's types and queries (mutations: :mod:`.graphql_mutations`).

Nested objects are resolved through the request's batched loader, so a page of 50 accounts
with their contacts, address, building and groups costs the same number of SQL statements
as a page of 5. Every type and root field carries ``@requires`` (see ``schema.graphql``).
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from backhaul.core.db import LIKE_ESCAPE, contains_pattern
from backhaul.core.graphql.pagination import refuse_nul
from backhaul.sdk import GraphQLContribution, db
from backhaul.sdk.graphql import (
    GraphQLUserError,
    ObjectType,
    QueryType,
    apply_filters,
    camel,  # noqa: F401  (used by graphql_mutations)
    load,
    load_many,
    load_related,
    paginate,
    parse_id,
    set_aliases,
    snake,  # noqa: F401
    sort_order,
)

from .accounts import search_accounts
from .addresses import search_addresses, search_buildings
from .models import (
    Account,
    AccountGroup,
    AccountGroupMember,
    AccountStatus,
    Address,
    AddressOccupancy,
    Building,
    Call,
    Contact,
    Note,
    ScheduledEvent,
)
from .timeline import build_timeline

SDL = (Path(__file__).parent / "schema.graphql").read_text()

query = QueryType()
account_type = ObjectType("Account")
status_type = ObjectType("AccountStatus")
address_type = ObjectType("Address")
building_type = ObjectType("Building")
occupancy_type = ObjectType("Occupancy")
contact_type = ObjectType("Contact")
note_type = ObjectType("Note")
call_type = ObjectType("Call")
event_type = ObjectType("ScheduledEvent")


_alias = set_aliases


_alias(account_type, "accountType", "createdAt", "updatedAt")
_alias(status_type, "isDefault")
_alias(address_type, "postalCode", "maxDownMbps", "maxUpMbps", "serviceabilityNotes", "oneLine",
       "createdAt")
_alias(building_type, "postalCode", "createdAt")
_alias(occupancy_type, "startedAt", "endedAt", "endedReason")
_alias(contact_type, "isPrimary", "isFinancial", "portalAccess")
_alias(note_type, "bodyHtml", "pinnedAt", "createdAt")
_alias(call_type, "durationSeconds")
_alias(event_type, "dueAt", "maxAttempts", "nextAttemptAt", "lastError", "createdBy",
       "cancelledBy", "finishedAt")


int_id = parse_id  # (one definition: backhaul.sdk.graphql.parse_id)


def _float(value):
    return float(value) if value is not None else None


for _type in (address_type, building_type):
    _type.set_field("latitude", lambda obj, _info: _float(obj.latitude))
    _type.set_field("longitude", lambda obj, _info: _float(obj.longitude))


# ------------------------------------------------------------------------------ Account
@account_type.field("status")
def resolve_status(account, _info):
    return load(AccountStatus, account.status_id)


@account_type.field("parent")
def resolve_parent(account, _info):
    return load(Account, account.parent_id)


@account_type.field("children")
def resolve_children(account, _info):
    return load_related(Account, "parent_id", account.id)


@account_type.field("address")
def resolve_account_address(account, _info):
    return load(Address, account.address_id)


@account_type.field("occupancies")
async def resolve_account_occupancies(account, _info):
    rows = await load_related(AddressOccupancy, "account_id", account.id)
    return sorted(rows, key=lambda o: (o.started_at, o.id), reverse=True)


@account_type.field("groups")
async def resolve_groups(account, _info):
    members = await load_related(AccountGroupMember, "account_id", account.id)
    groups = await load_many(AccountGroup, [m.group_id for m in members])
    return sorted(g.name for g in groups if g is not None)


async def _contacts(account) -> list[Contact]:
    rows = await load_related(Contact, "account_id", account.id)
    return sorted(rows, key=lambda c: (not c.is_primary, c.id))


@account_type.field("contacts")
async def resolve_contacts(account, _info):
    return await _contacts(account)


@account_type.field("primaryContact")
async def resolve_primary_contact(account, _info):
    return next((c for c in await _contacts(account) if c.is_primary), None)


@account_type.field("notes")
async def resolve_account_notes(account, _info, pinned=None, category=None):
    rows = await load_related(Note, "account_id", account.id)
    rows = [n for n in rows if (pinned is None or n.pinned == pinned)
            and (category is None or n.category == category)]
    return sorted(rows, key=lambda n: (n.pinned, n.created_at, n.id), reverse=True)


@account_type.field("calls")
async def resolve_account_calls(account, _info, first=None):
    rows = sorted(await load_related(Call, "account_id", account.id),
                  key=lambda c: (c.at, c.id), reverse=True)
    return rows[:first] if first is not None else rows


@account_type.field("scheduledEvents")
async def resolve_account_events(account, _info, status=None):
    rows = await load_related(ScheduledEvent, "account_id", account.id)
    rows = [e for e in rows if not status or e.status in status]
    return sorted(rows, key=lambda e: (e.due_at, e.id), reverse=True)


@account_type.field("timeline")
def resolve_timeline(account, _info, limit=50):
    """Per account (plugins are asked too): meant for one account, not for a long list."""
    limit = 50 if limit is None else limit  # timeline(limit: null): the default
    if not 1 <= limit <= 200:
        raise GraphQLUserError("'limit' must be between 1 and 200.")
    return [{"at": e.at, "kind": e.kind, "title": e.title, "body": e.body or "",
             "html": bool(e.meta.get("html")), "url": e.url, "plugin": e.meta.get("plugin")}
            for e in build_timeline(account, limit)]


# ------------------------------------------------------------------------------ addresses
@address_type.field("building")
def resolve_address_building(address, _info):
    return load(Building, address.building_id)


@address_type.field("currentAccount")
async def resolve_current_account(address, _info):
    rows = await load_related(AddressOccupancy, "address_id", address.id)
    current = next((o for o in rows if o.ended_at is None), None)
    return await load(Account, current.account_id) if current else None


@address_type.field("occupancies")
async def resolve_address_occupancies(address, _info):
    rows = await load_related(AddressOccupancy, "address_id", address.id)
    return sorted(rows, key=lambda o: (o.started_at, o.id), reverse=True)


@occupancy_type.field("account")
def resolve_occupancy_account(occupancy, _info):
    return load(Account, occupancy.account_id)


@occupancy_type.field("address")
def resolve_occupancy_address(occupancy, _info):
    return load(Address, occupancy.address_id)


@building_type.field("units")
def resolve_units(building, _info, filter=None, first=None, after=None):  # noqa: A002
    refuse_nul(filter)
    stmt = search_addresses(**_address_filter(filter), building_id=building.id)
    return paginate(stmt, first, after, order_by=(Address.unit,))


# ------------------------------------------------------------------------------ others
for _type in (contact_type, note_type, call_type):
    _type.set_field("account", lambda obj, _info: load(Account, obj.account_id))
call_type.set_field("contact", lambda call, _info: load(Contact, call.contact_id))
event_type.set_field("account", lambda event, _info: load(Account, event.account_id))
event_type.set_field("address", lambda event, _info: load(Address, event.address_id))


@event_type.field("label")
def resolve_event_label(event, _info):
    kind = current_app.extensions["backhaul.contributions"].scheduled_action_types.get(
        event.action)
    return kind.label if kind else event.action


# ------------------------------------------------------------------------------ queries
SORTS = {"number": Account.number, "-number": Account.number.desc(), "name": Account.name,
         "-name": Account.name.desc(), "createdAt": Account.created_at,
         "-createdAt": Account.created_at.desc()}


def _address_filter(values) -> dict:
    values = dict(values or {})
    out = {"text": values.pop("search", None) or ""}
    if values.get("buildingId") is not None:
        out["building_id"] = int_id(values.pop("buildingId"), "buildingId")
    values.pop("buildingId", None)
    for key in ("serviceable", "occupied", "technology"):
        if values.get(key) is not None:
            out[key] = values[key]
    return out


@query.field("account")
def resolve_account(_obj, _info, id=None, number=None):  # noqa: A002
    if id is not None:
        return db.session.get(Account, int_id(id))
    if number:
        refuse_nul(number, "number")
        return db.session.scalar(sa.select(Account).where(Account.number == number))
    raise GraphQLUserError("Give the account's id or number.")


@query.field("accounts")
def resolve_accounts(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    refuse_nul(filter)
    f = dict(filter or {})
    order_by = sort_order(sort, SORTS, "number")
    stmt = search_accounts(
        f.get("search") or "", status=f.get("status"), meaning=f.get("meaning"),
        account_type=f.get("accountType"), group=f.get("group"),
        building_id=int_id(f["buildingId"], "buildingId") if f.get("buildingId") else None)
    return paginate(stmt, first, after, order_by=order_by)


@query.field("accountStatuses")
def resolve_statuses(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    from .statuses import ensure_default_statuses

    order_by = sort_order(sort, STATUS_SORTS, "position")
    ensure_default_statuses()
    stmt = apply_filters(sa.select(AccountStatus), filter, {
        "meaning": AccountStatus.meaning, "isDefault": AccountStatus.is_default,
        "search": lambda stmt, text: stmt.where(sa.or_(
            AccountStatus.key.icontains(text.strip(), autoescape=True),
            AccountStatus.name.icontains(text.strip(), autoescape=True)))})
    return paginate(stmt, first, after, order_by=order_by)


STATUS_SORTS = {"position": (AccountStatus.position, AccountStatus.key),
                "name": AccountStatus.name, "-name": AccountStatus.name.desc(),
                "key": AccountStatus.key, "-key": AccountStatus.key.desc()}
CONTACT_SORTS = {"id": Contact.id, "-id": Contact.id.desc(), "name": Contact.name,
                 "-name": Contact.name.desc(), "createdAt": Contact.created_at,
                 "-createdAt": Contact.created_at.desc()}
ADDRESS_SORTS = {"street": (Address.street, Address.unit),
                 "-street": (Address.street.desc(), Address.unit.desc()),
                 "city": (Address.city, Address.street, Address.unit),
                 "-city": (Address.city.desc(), Address.street.desc(), Address.unit.desc()),
                 "createdAt": Address.created_at, "-createdAt": Address.created_at.desc()}
BUILDING_SORTS = {"name": Building.name, "-name": Building.name.desc(),
                  "createdAt": Building.created_at, "-createdAt": Building.created_at.desc()}
NOTE_SORTS = {"createdAt": Note.created_at, "-createdAt": Note.created_at.desc()}
CALL_SORTS = {"at": Call.at, "-at": Call.at.desc(), "durationSeconds": Call.duration_seconds,
              "-durationSeconds": Call.duration_seconds.desc()}
EVENT_SORTS = {"dueAt": ScheduledEvent.due_at, "-dueAt": ScheduledEvent.due_at.desc(),
               "createdAt": ScheduledEvent.created_at,
               "-createdAt": ScheduledEvent.created_at.desc()}


def _between(stmt, column, f: dict, since: str, until: str):
    """``since`` inclusive, ``until`` exclusive (aware DateTimes from the scalar)."""
    if f.get(since) is not None:
        stmt = stmt.where(column >= f[since])
    if f.get(until) is not None:
        stmt = stmt.where(column < f[until])
    return stmt


@query.field("contacts")
def resolve_contacts_list(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                          sort=None):
    refuse_nul(filter)
    f = dict(filter or {})
    order_by = sort_order(sort, CONTACT_SORTS, "id")
    stmt = sa.select(Contact)
    if f.get("accountId"):
        stmt = stmt.where(Contact.account_id == int_id(f["accountId"], "accountId"))
    if f.get("search"):
        like = contains_pattern(f["search"].strip())
        stmt = stmt.where(sa.or_(*(column.ilike(like, escape=LIKE_ESCAPE) for column in (
            Contact.name, Contact.email, Contact.phone))))
    if f.get("isFinancial") is not None:
        stmt = stmt.where(Contact.is_financial.is_(f["isFinancial"]))
    if f.get("isPrimary") is not None:
        stmt = stmt.where(Contact.is_primary.is_(f["isPrimary"]))
    if f.get("portalAccess") is not None:
        stmt = stmt.where(Contact.portal_access.is_(f["portalAccess"]))
    return paginate(stmt, first, after, order_by=order_by)


@query.field("address")
def resolve_address(_obj, _info, id):  # noqa: A002
    return db.session.get(Address, int_id(id))


@query.field("addresses")
def resolve_addresses(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    refuse_nul(filter)
    order_by = sort_order(sort, ADDRESS_SORTS, "street")
    stmt = search_addresses(**_address_filter(filter))
    if (filter or {}).get("city"):
        stmt = stmt.where(sa.func.lower(Address.city) == filter["city"].strip().lower())
    return paginate(stmt, first, after, order_by=order_by)


@query.field("building")
def resolve_building(_obj, _info, id):  # noqa: A002
    return db.session.get(Building, int_id(id))


@query.field("buildings")
def resolve_buildings(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    refuse_nul(filter)
    order_by = sort_order(sort, BUILDING_SORTS, "name")
    stmt = search_buildings((filter or {}).get("search") or "")
    if (filter or {}).get("city"):
        stmt = stmt.where(sa.func.lower(Building.city) == filter["city"].strip().lower())
    return paginate(stmt, first, after, order_by=order_by)


def _account_scope(stmt, model, f: dict):
    if f.get("accountId"):
        stmt = stmt.where(model.account_id == int_id(f["accountId"], "accountId"))
    return stmt


@query.field("notes")
def resolve_notes(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    refuse_nul(filter)
    f = dict(filter or {})
    order_by = sort_order(sort, NOTE_SORTS, "-createdAt")
    stmt = _account_scope(sa.select(Note), Note, f)
    if f.get("category"):
        stmt = stmt.where(Note.category == f["category"])
    if f.get("pinned") is not None:
        stmt = stmt.where(Note.pinned.is_(f["pinned"]))
    if f.get("search"):
        stmt = stmt.where(Note.body.icontains(f["search"].strip(), autoescape=True))
    stmt = _between(stmt, Note.created_at, f, "createdFrom", "createdTo")
    return paginate(stmt, first, after, order_by=order_by)


@query.field("calls")
def resolve_calls(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    refuse_nul(filter)
    f = dict(filter or {})
    order_by = sort_order(sort, CALL_SORTS, "-at")
    stmt = _account_scope(sa.select(Call), Call, f)
    if f.get("direction"):
        stmt = stmt.where(Call.direction == f["direction"])
    if f.get("contactId"):
        stmt = stmt.where(Call.contact_id == int_id(f["contactId"], "contactId"))
    stmt = _between(stmt, Call.at, f, "from", "to")
    return paginate(stmt, first, after, order_by=order_by)


@query.field("scheduledEvents")
def resolve_events(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    refuse_nul(filter)
    f = dict(filter or {})
    order_by = sort_order(sort, EVENT_SORTS, "dueAt")
    stmt = _account_scope(sa.select(ScheduledEvent), ScheduledEvent, f)
    if f.get("status"):
        stmt = stmt.where(ScheduledEvent.status.in_(f["status"]))
    if f.get("action"):
        stmt = stmt.where(ScheduledEvent.action == f["action"])
    stmt = _between(stmt, ScheduledEvent.due_at, f, "dueFrom", "dueTo")
    return paginate(stmt, first, after, order_by=order_by)


@query.field("scheduledActionTypes")
def resolve_action_types(_obj, _info):
    types = current_app.extensions["backhaul.contributions"].scheduled_action_types
    return [{"key": t.key, "label": t.label, "targets": list(t.targets)}
            for t in sorted(types.values(), key=lambda t: t.label)]


def contribution() -> GraphQLContribution:
    from . import graphql_units
    from .graphql_mutations import mutation

    return GraphQLContribution(SDL + "\n" + graphql_units.SDL, (
        query, mutation, account_type, status_type, address_type, building_type,
        occupancy_type, contact_type, note_type, call_type, event_type,
        *graphql_units.BINDABLES))
