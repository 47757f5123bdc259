"""A scheduled action type: staff schedule "send a greeting" for a future date on an account.

The core validates the parameters with ``GreetParameters`` when the event is scheduled and
calls :func:`execute` from a job when it is due, inside a transaction. It must be idempotent.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backhaul.sdk import ScheduledActionType

from .greetings import greet


class GreetParameters(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=100))


def execute(event, params: dict) -> dict:
    greeting = greet(params["name"], account_id=getattr(event, "account_id", None),
                     key=f"scheduled:{event.id}")
    return {"greeting_id": greeting.id}


def action_types() -> list[ScheduledActionType]:
    return [ScheduledActionType("example.greet", "Send a greeting (example)", GreetParameters,
                                execute)]
