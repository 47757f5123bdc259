"""Scheduled price and service changes: scheduled-event types contributed to the core.

Staff schedule them on an account (target: the account; the subscription is a parameter);
the core's scheduler runs them when due, inside a transaction, and they split the
subscription on the event's date with :func:`subscriptions.change_subscription` — see that
module for what happens to a period already billed. Running one twice changes nothing
(``change_subscription`` finds the successor it created the first time).
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import ScheduledActionType, db

from .models import Package, Service, Subscription
from .subscriptions import change_subscription


class PriceChangeParams(Schema):
    subscription_id = fields.Integer(required=True)
    #: the new price (major units, e.g. "49.99"); empty: back to the catalogue price
    price = fields.String(load_default="")
    quantity = fields.Integer(load_default=None, allow_none=True,
                              validate=validate.Range(min=1))


class ServiceChangeParams(Schema):
    subscription_id = fields.Integer(required=True)
    service_id = fields.Integer(load_default=None, allow_none=True)
    package_id = fields.Integer(load_default=None, allow_none=True)
    price = fields.String(load_default="")

    @validates_schema
    def _one(self, data, **_):
        if (data.get("service_id") is None) == (data.get("package_id") is None):
            raise ValidationError("give the new service or the new package (one of them)",
                                  "service_id")


def _subscription(event, params) -> Subscription:
    sub = db.session.get(Subscription, params["subscription_id"])
    if sub is None or (event.account_id is not None and sub.account_id != event.account_id):
        raise ValidationError({"subscription_id": ["no such subscription on this account"]})
    return sub


def _effective(event):
    return event.due_at.date()


def execute_price_change(event, params) -> dict:
    sub = _subscription(event, params)
    new = change_subscription(sub, _effective(event), price_override=params["price"] or None,
                              quantity=params.get("quantity"))
    return {"subscription_id": new.id}


def execute_service_change(event, params) -> dict:
    sub = _subscription(event, params)
    service = db.session.get(Service, params["service_id"]) if params.get("service_id") else None
    package = db.session.get(Package, params["package_id"]) if params.get("package_id") else None
    if service is None and package is None:
        raise ValidationError({"service_id": ["no such service or package"]})
    new = change_subscription(sub, _effective(event), service=service, package=package,
                              price_override=params["price"] or None)
    return {"subscription_id": new.id}


def action_types() -> list[ScheduledActionType]:
    return [
        ScheduledActionType("billing.price_change", "Change a subscription's price",
                            PriceChangeParams, execute_price_change),
        ScheduledActionType("billing.service_change", "Change a subscription's service",
                            ServiceChangeParams, execute_service_change),
    ]


__all__ = ["action_types", "execute_price_change", "execute_service_change"]
