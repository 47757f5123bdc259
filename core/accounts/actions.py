"""The scheduled action types the accounts kernel contributes (through the public hook).

Each schema runs inside a marshmallow ``Context`` whose ``account`` is the event's account, so
checks such as "this contact belongs to the account" happen when the event is *scheduled*
(field errors for staff) and again when it runs (the contact may be gone by then).
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates
from marshmallow.experimental.context import Context

from backhaul.sdk.contributions import ScheduledActionType

from .contacts import contact_of, set_financial, set_primary
from .fields import BaseSchema
from .statuses import get_status, set_status


def _account():
    return (Context.get(default={}) or {}).get("account")


class ChangeStatusParams(BaseSchema):
    status = fields.String(required=True)
    reason = fields.String(load_default="scheduled", validate=validate.Length(min=1, max=64))

    @validates("status")
    def _known(self, value, **kwargs):
        try:
            get_status(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages["status"]) from None


class MoveOutParams(BaseSchema):
    status = fields.String(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))

    @validates("status")
    def _inactive(self, value, **kwargs):
        if value is None:
            return
        from .moves import check_move_out_status

        try:
            check_move_out_status(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages["status"]) from None


class ContactParams(BaseSchema):
    contact_id = fields.Integer(required=True)

    @validates("contact_id")
    def _belongs(self, value, **kwargs):
        account = _account()
        if account is not None:
            try:
                contact_of(account, value)
            except ValidationError as exc:
                raise ValidationError(exc.messages["contact_id"]) from None


class FinancialContactParams(ContactParams):
    exclusive = fields.Boolean(load_default=True)


def _change_status(event, params: dict) -> dict:
    changed = set_status(event.account, params["status"], reason=params["reason"])
    return {"status": params["status"], "changed": changed}


def _move_out(event, params: dict) -> dict:
    from .moves import execute_move_out

    return execute_move_out(event.account, params.get("status"), params.get("note", ""))


def _move_in_params():
    from .units import MoveInParams

    return MoveInParams


def _move_in(event, params: dict) -> dict:
    from .units import execute_move_in

    return execute_move_in(event, params)


def _switch_primary(event, params: dict) -> dict:
    contact = contact_of(event.account, params["contact_id"])
    return {"contact_id": contact.id, "changed": set_primary(contact)}


def _switch_financial(event, params: dict) -> dict:
    contact = contact_of(event.account, params["contact_id"])
    set_financial(contact, True, exclusive=params["exclusive"])
    return {"contact_id": contact.id, "exclusive": params["exclusive"]}


def core_action_types() -> list[ScheduledActionType]:
    return [
        ScheduledActionType("change_status", "Change account status", ChangeStatusParams,
                            _change_status),
        ScheduledActionType("move_out", "Move-out", MoveOutParams, _move_out),
        ScheduledActionType("move_in", "Move-in (a booked next tenant)", _move_in_params(),
                            _move_in),
        ScheduledActionType("switch_primary_contact", "Switch primary contact", ContactParams,
                            _switch_primary),
        ScheduledActionType("switch_financial_contact", "Switch financial contact",
                            FinancialContactParams, _switch_financial),
    ]
