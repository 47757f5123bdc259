"""GraphQL behind the office manager's billing pages (``schema_ui.graphql``).

Each mutation calls the same domain step as its page (``views_ui.py``) behind the same
permission, so what a browser can do a client can do. Service types describe their
parameters (from the marshmallow schema) so a client builds the same form the UI shows.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from backhaul.sdk import db, registered
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    mutation_payload,
    parse_id,
)

from . import accounts as billing_accounts
from . import catalogue, catalogue_edit, views_ui
from .graphql import get_or_error
from .models import Invoice, Package, Run, Service, Subscription
from .parameters import describe_schema

SDL = (Path(__file__).parent / "schema_ui.graphql").read_text()

query = QueryType()
mutation = MutationType()
stype = ObjectType("BillingServiceType")
invoice = ObjectType("BillingInvoice")
preview_item = ObjectType("BillingPreviewItem")
candidate = ObjectType("BillingSuspensionCandidate")
run_obj = ObjectType("BillingRun")
package_obj = ObjectType("BillingPackage")


def _who(info) -> str:
    user = getattr(info.context.principal, "user", None)
    return getattr(user, "email", "") or "api"


# ------------------------------------------------------------------------------ fields
@stype.field("parameters")
def resolve_parameters(kind, _info):
    found = registered("service_types").get(kind["key"])
    out = []
    for spec in describe_schema(found.parameters_schema if found else None):
        out.append({"name": spec["name"], "type": spec["type"], "required": spec["required"],
                    "label": spec["label"], "help": spec["help"],
                    "default": spec.get("default"), "min": spec.get("min"),
                    "max": spec.get("max"),
                    "choices": [str(c) for c in spec["choices"]] if "choices" in spec else None,
                    "itemType": spec.get("item_type")})
    return out


def _identity(account_id, part: str):
    who = views_ui.account_identity(parse_id(account_id) if isinstance(account_id, str)
                                    else account_id)
    return who[part] if who else None


for _obj, _get in ((invoice, lambda row: row.account_id),
                   (preview_item, lambda row: row["accountId"]),
                   (candidate, lambda row: row["accountId"])):
    _obj.set_field("accountNumber", lambda row, _i, g=_get: _identity(g(row), "number"))
    _obj.set_field("accountName", lambda row, _i, g=_get: _identity(g(row), "name"))


@run_obj.field("invoices")
def resolve_run_invoices(row, _info):
    return db.session.scalars(sa.select(Invoice).where(Invoice.run_id == row.id)
                              .order_by(Invoice.id)).all()


package_obj.set_field("active", lambda row, _i: bool(row.active))


@query.field("billingRun")
def resolve_run(_obj, _info, id):  # noqa: A002
    return db.session.get(Run, parse_id(id))


# ------------------------------------------------------------------------------ mutations
def _with_params_prefix(type_key: str, params: dict) -> dict:
    return views_ui.validate_params(type_key, params)


@mutation.field("billingCreateTaxClass")
@mutation_payload
def resolve_create_tax_class(_obj, _info, key, name, rate):
    if not key.strip() or not name.strip():
        raise FieldErrors({"key" if not key.strip() else "name": ["is required"]})
    return {"taxClass": catalogue.create_tax_class(key.strip(), name.strip(), rate.strip())}


@mutation.field("billingUpdateService")
@mutation_payload
def resolve_update_service(_obj, _info, id, input):  # noqa: A002
    service = get_or_error(Service, id, "id")
    params = _with_params_prefix(service.type_key, input["params"]) \
        if input.get("params") is not None else None
    tax = input.get("taxClass", False)
    catalogue_edit.update_service(
        service, name=input.get("name"), price=input.get("price"), params=params,
        frequency=input.get("frequency"), tax_class=(tax or None) if tax is not False else False,
        invoice_label=input.get("invoiceLabel"), prorate=input.get("prorate"))
    return {"service": service}


@mutation.field("billingRetireService")
@mutation_payload
def resolve_retire_service(_obj, _info, id, retired=True):  # noqa: A002
    service = get_or_error(Service, id, "id")
    return {"service": catalogue_edit.retire_service(service, retired is not False)}


def _items(items) -> list:
    return catalogue_edit.package_items([(parse_id(i["serviceId"]), i.get("quantity") or 1)
                                         for i in items])


@mutation.field("billingCreatePackage")
@mutation_payload
def resolve_create_package(_obj, _info, input):  # noqa: A002
    package = catalogue.create_package(
        (input.get("name") or "").strip(), _items(input["items"]),
        currency=input.get("currency") or billing_accounts.billing_settings.load().currency,
        pricing=input.get("pricing") or "package", price=input.get("price"),
        frequency=input.get("frequency") or "monthly", tax_class=input.get("taxClass"),
        invoice_label=input.get("invoiceLabel") or "", prorate=input.get("prorate") is not False)
    return {"package": package}


@mutation.field("billingUpdatePackage")
@mutation_payload
def resolve_update_package(_obj, _info, id, input):  # noqa: A002
    package = get_or_error(Package, id, "id")
    catalogue_edit.update_package(
        package, name=input.get("name"), price=input.get("price"),
        items=_items(input["items"]) if input.get("items") is not None else None,
        invoice_label=input.get("invoiceLabel"), active=input.get("active"))
    return {"package": package}


@mutation.field("billingChangeSubscriptionPrice")
@mutation_payload
def resolve_change_price(_obj, _info, id, effectiveDate, reason, price=None,  # noqa: A002
                         quantity=None):  # noqa: N803
    sub = get_or_error(Subscription, id, "id")
    return {"subscription": views_ui.change_price(sub, effectiveDate, (price or "").strip(),
                                                  reason, quantity)}


@mutation.field("billingEndSubscriptionWithReason")
@mutation_payload
def resolve_end_with_reason(_obj, _info, id, endDate, reason):  # noqa: A002, N803
    sub = get_or_error(Subscription, id, "id")
    return {"subscription": views_ui.end_with_reason(sub, endDate, reason)}


@mutation.field("billingScheduleSubscriptionChange")
@mutation_payload
def resolve_schedule_change(_obj, _info, id, effectiveDate, price=None,  # noqa: A002, N803
                            serviceId=None, packageId=None):  # noqa: N803
    from backhaul.sdk.accounts import get_account, schedule_event

    sub = get_or_error(Subscription, id, "id")
    params: dict = {"subscription_id": sub.id, "price": (price or "").strip()}
    action = "billing.price_change"
    if serviceId or packageId:
        action = "billing.service_change"
        if serviceId:
            params["service_id"] = get_or_error(Service, serviceId, "serviceId").id
        if packageId:
            params["package_id"] = get_or_error(Package, packageId, "packageId").id
    event = schedule_event(get_account(sub.account_id), action, effectiveDate.isoformat(),
                           params)
    return {"eventId": event.id}


@mutation.field("billingBillAccountNow")
@mutation_payload
def resolve_bill_now(_obj, info, accountId, runDate=None):  # noqa: N803
    from backhaul.sdk.accounts import get_account

    account_id = parse_id(accountId)
    if get_account(account_id) is None:
        raise FieldErrors({"accountId": ["no such account"]})
    return {"run": views_ui.bill_now_in_background(account_id, runDate or date.today(),
                                                   _who(info))}


@mutation.field("billingRetryRun")
@mutation_payload
def resolve_retry_run(_obj, _info, id):  # noqa: A002
    from . import run

    return {"run": run.retry_failed(get_or_error(Run, id, "id"))}


BINDABLES = (query, mutation, stype, invoice, preview_item, candidate, run_obj, package_obj)

__all__ = ["BINDABLES", "SDL"]
