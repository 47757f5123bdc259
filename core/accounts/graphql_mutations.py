"""GraphQL mutations of the accounts kernel: thin wrappers over the domain functions.

Inputs arrive camelCase and are handed to the same marshmallow schemas as the UI forms; a
``ValidationError`` becomes ``{ok: false, errors: [{field, messages}]}`` with camelCase field
names (``params.contactId`` for nested parameters), and whatever the mutation wrote is rolled
back (savepoint). The request commits only when every field succeeded.
"""
from __future__ import annotations

import functools

from marshmallow import ValidationError

from backhaul.sdk import db
from backhaul.sdk.graphql import FieldErrors, MutationType, mutation_payload

from . import accounts as accounts_mod
from . import addresses, buildings, calls, contacts, moves, notes, scheduling, statuses
from .csv_import import CsvImportError, import_addresses
from .graphql import camel, int_id, snake
from .models import Account, Address, Building, Contact, Note, ScheduledEvent

mutation = MutationType()


def _camel_errors(resolver):
    """Re-key marshmallow errors in camelCase before ``mutation_payload`` reports them."""

    @functools.wraps(resolver)
    def wrapper(obj, info, **kwargs):
        try:
            return resolver(obj, info, **kwargs)
        except ValidationError as exc:
            flat = FieldErrors.from_marshmallow(exc).errors
            raise FieldErrors({(".".join(camel(p) for p in k.split(".")) if k else k): v
                               for k, v in flat.items()}) from None

    return wrapper


def action(name: str):
    """``@mutation.field(name)`` + payload handling + camelCase errors."""

    def decorate(resolver):
        mutation.set_field(name, mutation_payload(_camel_errors(resolver)))
        return resolver

    return decorate


def _input(data: dict | None) -> dict:
    return {snake(k): v for k, v in (data or {}).items()}


def _get(model, value, field: str = "id"):
    obj = db.session.get(model, int_id(value, field))
    if obj is None:
        raise FieldErrors({field: [f"There is no {model.__name__.lower()} {value}."]})
    return obj


# ------------------------------------------------------------------------------ accounts
@action("createAccount")
def create_account(_obj, _info, input):  # noqa: A002
    return {"account": accounts_mod.create_account(_input(input))}


@action("updateAccount")
def update_account(_obj, _info, id, input):  # noqa: A002
    return {"account": accounts_mod.update_account(_get(Account, id), _input(input))}


@action("setAccountStatus")
def set_account_status(_obj, _info, id, status, reason=None):  # noqa: A002
    account = _get(Account, id)
    statuses.set_status(account, status, reason=reason or "manual")
    return {"account": account}


@action("saveAccountStatus")
def save_account_status(_obj, _info, input):  # noqa: A002
    data = _input(input)
    status = statuses.save_status(data["key"], data["name"], data["colour"], data["meaning"],
                                  is_default=bool(data.get("is_default")),
                                  position=data.get("position") or 100)
    return {"status": status}


# ------------------------------------------------------------------------------ contacts
@action("addContact")
def add_contact(_obj, _info, accountId, input):  # noqa: A002, N803
    account = _get(Account, accountId, "accountId")
    return {"contact": contacts.add_contact(account, _input(input))}


@action("updateContact")
def update_contact(_obj, _info, id, input):  # noqa: A002
    return {"contact": contacts.update_contact(_get(Contact, id), _input(input))}


@action("removeContact")
def remove_contact(_obj, _info, id):  # noqa: A002
    contacts.remove_contact(_get(Contact, id))
    return {"contact": None}


@action("setPrimaryContact")
def set_primary_contact(_obj, _info, id):  # noqa: A002
    contact = _get(Contact, id)
    contacts.set_primary(contact)
    return {"contact": contact}


@action("setFinancialContact")
def set_financial_contact(_obj, _info, id, financial, exclusive=False):  # noqa: A002
    contact = _get(Contact, id)
    contacts.set_financial(contact, financial, exclusive=bool(exclusive))
    return {"contact": contact}


# ------------------------------------------------------------------------------ addresses
@action("createBuilding")
def create_building(_obj, _info, input):  # noqa: A002
    return {"building": addresses.create_building(_input(input))}


@action("updateBuilding")
def update_building(_obj, _info, id, input):  # noqa: A002
    return {"building": addresses.update_building(_get(Building, id), _input(input))}


@action("generateUnits")
def generate_units(_obj, _info, buildingId, input):  # noqa: A002, N803
    building = _get(Building, buildingId, "buildingId")
    created, skipped = buildings.generate_units(building, _input(input))
    return {"created": created, "skipped": skipped}


@action("createAddress")
def create_address(_obj, _info, input):  # noqa: A002
    return {"address": addresses.create_address(_input(input))}


@action("updateAddress")
def update_address(_obj, _info, id, input):  # noqa: A002
    return {"address": addresses.update_address(_get(Address, id), _input(input))}


@action("importAddresses")
def import_csv(_obj, _info, csv):
    try:
        result = import_addresses(csv)
    except CsvImportError as exc:
        rows = [{"line": e.line, "field": e.field, "message": e.message} for e in exc.errors]
        return {"ok": False, "errors": [{"field": "csv", "messages": [str(e) for e in
                                                                      exc.errors]}],
                "rowErrors": rows, "createdCount": 0, "buildingsCreated": 0}
    return {"rowErrors": [], "createdCount": len(result.created),
            "buildingsCreated": len(result.buildings_created)}


# ------------------------------------------------------------------------------ notes, calls
@action("addNote")
def add_note(_obj, _info, accountId, input):  # noqa: A002, N803
    return {"note": notes.add_note(_get(Account, accountId, "accountId"), _input(input))}


@action("updateNote")
def update_note(_obj, _info, id, input):  # noqa: A002
    return {"note": notes.update_note(_get(Note, id), _input(input))}


@action("pinNote")
def pin_note(_obj, _info, id, pinned):  # noqa: A002
    return {"note": notes.set_pinned(_get(Note, id), pinned)}


@action("deleteNote")
def delete_note(_obj, _info, id):  # noqa: A002
    notes.delete_note(_get(Note, id))
    return {"note": None}


@action("logCall")
def log_call(_obj, _info, accountId, input):  # noqa: A002, N803
    return {"call": calls.log_call(_get(Account, accountId, "accountId"), _input(input))}


# ------------------------------------------------------------------------------ events, moves
@action("scheduleEvent")
def schedule_event(_obj, _info, accountId, action, dueAt, params=None):  # noqa: N803
    account = _get(Account, accountId, "accountId")
    return {"event": scheduling.schedule_event(account, action, dueAt, params or {})}


@action("cancelScheduledEvent")
def cancel_event(_obj, _info, id):  # noqa: A002
    return {"event": scheduling.cancel_event(_get(ScheduledEvent, id))}


@action("rescheduleScheduledEvent")
def reschedule_event(_obj, _info, id, dueAt):  # noqa: A002, N803
    return {"event": scheduling.reschedule_event(_get(ScheduledEvent, id), dueAt)}


@action("retryScheduledEvent")
def retry_event(_obj, _info, id):  # noqa: A002
    return {"event": scheduling.retry_event(_get(ScheduledEvent, id))}


@action("onboardTenant")
def onboard_tenant(_obj, _info, input):  # noqa: A002
    return {"account": moves.onboard_tenant(_input(input))}


@action("scheduleMoveOut")
def schedule_move_out(_obj, _info, accountId, on, status=None, note=None):  # noqa: N803
    account = _get(Account, accountId, "accountId")
    return {"event": moves.schedule_move_out(account, {"on": on, "status": status,
                                                       "note": note or ""})}
