"""Billing's GraphQL mutations: thin wrappers over the domain, each in a savepoint.

``mutation_payload`` turns a domain ``ValidationError`` into ``ok: false`` with field errors
and rolls back what the mutation wrote; the request commits only when every field succeeded.
"""
from __future__ import annotations

from backhaul.sdk import db
from backhaul.sdk.graphql import FieldErrors, MutationType, mutation_payload

from . import accounts as billing_accounts
from . import catalogue, invoices, ledger, run, subscriptions
from .graphql import account_summary, get_or_error, parse_id
from .models import Invoice, Package, Payment, Service, Subscription

mutation = MutationType()


def _who(info) -> str:
    user = getattr(info.context.principal, "user", None)
    return getattr(user, "email", "") or "api"


@mutation.field("billingCreateService")
@mutation_payload
def resolve_create_service(_obj, _info, input):  # noqa: A002
    service = catalogue.create_service(
        input["name"], input["type"], input["price"], currency=input["currency"],
        frequency=input.get("frequency") or "monthly", tax_class=input.get("taxClass"),
        invoice_label=input.get("invoiceLabel") or "", prorate=input.get("prorate", True)
        is not False, params=input.get("params") or {})
    return {"service": service}


@mutation.field("billingSubscribe")
@mutation_payload
def resolve_subscribe(_obj, _info, input):  # noqa: A002
    from backhaul.sdk.accounts import get_account

    account_id = parse_id(input["accountId"])
    if get_account(account_id) is None:
        raise FieldErrors({"accountId": ["no such account"]})
    service = get_or_error(Service, input["serviceId"], "serviceId") if input.get("serviceId") \
        else None
    package = get_or_error(Package, input["packageId"], "packageId") if input.get("packageId") \
        else None
    sub = subscriptions.subscribe(
        account_id, service=service, package=package,
        quantity=1 if input.get("quantity") is None else input["quantity"],
        price_override=input.get("priceOverride") or None, start_date=input["startDate"],
        end_date=input.get("endDate"), description=input.get("description") or "")
    return {"subscription": sub}


@mutation.field("billingEndSubscription")
@mutation_payload
def resolve_end_subscription(_obj, _info, id, endDate):  # noqa: A002, N803
    sub = get_or_error(Subscription, id, "id")
    return {"subscription": subscriptions.end_subscription(sub, endDate)}


@mutation.field("billingRecordPayment")
@mutation_payload
def resolve_record_payment(_obj, info, input):  # noqa: A002
    account_id = parse_id(input["accountId"])
    invoice = get_or_error(Invoice, input["invoiceId"], "invoiceId") if input.get("invoiceId") \
        else None
    payment = ledger.record_payment(
        account_id, input["amount"], method=input["method"],
        reference=input.get("reference") or "", received_on=input.get("receivedOn"),
        key=input.get("key"), invoice=invoice, recorded_by=_who(info))
    return {"payment": payment, "balance": billing_accounts.balance(account_id)}


@mutation.field("billingReversePayment")
@mutation_payload
def resolve_reverse_payment(_obj, _info, id, reason):  # noqa: A002
    payment = ledger.reverse_payment(get_or_error(Payment, id, "id"), reason)
    return {"payment": payment, "balance": billing_accounts.balance(payment.account_id)}


@mutation.field("billingRefundPayment")
@mutation_payload
def resolve_refund_payment(_obj, _info, id, amount, key):  # noqa: A002
    from .gateway_events import refund_payment

    payment = get_or_error(Payment, id, "id")
    refund_payment(payment.id, amount, key=key)
    db.session.refresh(payment)
    return {"payment": payment, "balance": billing_accounts.balance(payment.account_id)}


@mutation.field("billingVoidInvoice")
@mutation_payload
def resolve_void(_obj, _info, id, reason):  # noqa: A002
    return {"invoice": invoices.void(get_or_error(Invoice, id, "id"), reason)}


@mutation.field("billingCreditNote")
@mutation_payload
def resolve_credit_note(_obj, _info, invoiceId, reason, amount=None):  # noqa: N803
    invoice = get_or_error(Invoice, invoiceId, "invoiceId")
    return {"invoice": invoices.credit_note(invoice, reason, amount or None)}


@mutation.field("billingStartRun")
@mutation_payload
def resolve_start_run(_obj, info, runDate=None):  # noqa: N803
    return {"run": run.start_in_background(runDate, triggered_by=_who(info))}


_SETTINGS = {"billingDay": "billing_day", "dueDays": "due_days", "graceDays": "grace_days",
             "autopay": "autopay", "delivery": "delivery", "taxExempt": "tax_exempt",
             "delinquencyExcluded": "delinquency_excluded"}


@mutation.field("billingUpdateAccountSettings")
@mutation_payload
def resolve_update_settings(_obj, _info, accountId, input):  # noqa: A002, N803
    account_id = parse_id(accountId)
    changes = {_SETTINGS[k]: v for k, v in input.items() if k in _SETTINGS}
    if changes.get("billing_day", 0) is None:
        del changes["billing_day"]
    for flag in ("tax_exempt", "delinquency_excluded"):
        if flag in changes and changes[flag] is None:
            changes[flag] = False
    billing_accounts.update(account_id, **changes)
    return {"account": account_summary(account_id)}


@mutation.field("billingAddCharge")
@mutation_payload
def resolve_add_charge(_obj, _info, input):  # noqa: A002
    service = get_or_error(Service, input["serviceId"], "serviceId") if input.get("serviceId") \
        else None
    charge = subscriptions.add_charge(
        parse_id(input["accountId"]), input["description"], input["unitPrice"],
        quantity=input.get("quantity") or "1", charge_date=input["chargeDate"],
        service=service)
    return {"chargeId": charge.id}


@mutation.field("billingAddAdjustment")
@mutation_payload
def resolve_add_adjustment(_obj, _info, input):  # noqa: A002
    sub = get_or_error(Subscription, input["subscriptionId"], "subscriptionId") \
        if input.get("subscriptionId") else None
    adj = subscriptions.add_adjustment(
        parse_id(input["accountId"]), mode=input["mode"], amount=input.get("amount"),
        percent=input.get("percent"), recurring=bool(input.get("recurring")),
        start_date=input["startDate"], end_date=input.get("endDate"), subscription=sub,
        label=input.get("label") or "", kind=input.get("kind") or "discount")
    return {"adjustmentId": adj.id}


@mutation.field("billingCreateInvoice")
@mutation_payload
def resolve_create_invoice(_obj, _info, accountId, lines, finalize=True,  # noqa: N803
                           memo=None):
    if not lines:
        raise FieldErrors({"lines": ["an invoice needs at least one line"]})
    draft = invoices.create_draft(parse_id(accountId), memo=memo or "")
    for line in lines:
        invoices.add_line(draft, line["description"], line["unitPrice"],
                          quantity=line.get("quantity") or "1", tax_class=line.get("taxClass"))
    if finalize is not False:
        invoices.finalize(draft)
    return {"invoice": draft}


__all__ = ["mutation"]
