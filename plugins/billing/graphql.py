"""Billing's part of the GraphQL schema (``schema.graphql``): thin resolvers over the domain.

Every root field declares its permission in the SDL. Mutations run in a savepoint through
``mutation_payload``: a ``ValidationError`` from the domain becomes ``ok: false`` with field
errors, and nothing is written.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import url_for

from backhaul.sdk import Money, db, registered
from backhaul.sdk.graphql import (
    FieldErrors,
    GraphQLUserError,
    ObjectType,
    QueryType,
    apply_filters,
    load,
    load_related,
    paginate,
    parse_id,
    set_aliases,
    sort_order,
)

from . import accounts as billing_accounts
from . import delinquency, ledger, run
from .models import (
    INVOICE_STATUSES,
    TRANSACTION_KINDS,
    Invoice,
    InvoiceLine,
    Package,
    PackageItem,
    PaymentMethod,
    Run,
    RunItem,
    Service,
    Subscription,
    TaxClass,
    Transaction,
)

SDL = (Path(__file__).parent / "schema.graphql").read_text()

query = QueryType()
service_type = ObjectType("BillingService")
package_type = ObjectType("BillingPackage")
subscription_type = ObjectType("BillingSubscription")
invoice_type = ObjectType("BillingInvoice")
line_type = ObjectType("BillingInvoiceLine")
transaction_type = ObjectType("BillingTransaction")
payment_type = ObjectType("BillingPayment")
run_type = ObjectType("BillingRun")
tax_type = ObjectType("BillingTaxClass")
account_type = ObjectType("Account")  # billing's fields on the accounts kernel's type

for obj, aliases in {
    service_type: {"type": "type_key", "invoiceLabel": "invoice_label"},
    package_type: {},
    subscription_type: {"accountId": "account_id", "startDate": "start_date",
                        "endDate": "end_date", "billedThrough": "billed_through",
                        "priceOverride": "price_override"},
    invoice_type: {"accountId": "account_id", "issueDate": "issue_date",
                   "dueDate": "due_date", "periodStart": "period_start",
                   "periodEnd": "period_end", "amountDue": "amount_due",
                   "voidReason": "void_reason", "number": "display_number"},
    transaction_type: {"invoiceId": "invoice_id", "paymentId": "payment_id",
                       "createdAt": "created_at"},
    payment_type: {"accountId": "account_id", "receivedOn": "received_on",
                   "amount": "money"},
    run_type: {"runDate": "run_date", "accountsDue": "accounts_due",
               "triggeredBy": "triggered_by", "startedAt": "started_at",
               "finishedAt": "finished_at"},
}.items():
    set_aliases(obj, **aliases)
payment_type.set_field("refunded", lambda p, _i: Money(p.refunded_amount, p.currency))




def get_or_error(model, value, field: str):
    row = db.session.get(model, parse_id(value))
    if row is None:
        raise FieldErrors({field: [f"no {model.__name__.lower()} with id {value}"]})
    return row


# ------------------------------------------------------------------------------ object fields
@service_type.field("price")
def resolve_service_price(service, _info):
    return service.price


@service_type.field("taxClass")
def resolve_service_tax(service, _info):
    return service.tax_class.key if service.tax_class else None


@service_type.field("description")
def resolve_service_description(service, _info):
    kind = registered("service_types").get(service.type_key)
    return kind.describe(service.params or {}) if kind else service.type_key


@package_type.field("price")
def resolve_package_price(package, _info):
    return Money(package.price_amount, package.currency) if package.price_amount is not None \
        else None


@invoice_type.field("subtotal")
def resolve_subtotal(invoice, _info):
    return invoice.money(invoice.subtotal_amount)


@invoice_type.field("tax")
def resolve_tax(invoice, _info):
    return invoice.money(invoice.tax_amount)


@invoice_type.field("paid")
def resolve_paid(invoice, _info):
    return invoice.money(invoice.paid_amount)


@invoice_type.field("lines")
def resolve_lines(invoice, _info):
    return load_related(InvoiceLine, "invoice_id", invoice.id)


@invoice_type.field("url")
def resolve_url(invoice, _info):
    return url_for("billing.invoice", invoice_id=invoice.id)


@invoice_type.field("pdfUrl")
def resolve_pdf_url(invoice, _info):
    return url_for("billing.invoice_pdf", invoice_id=invoice.id)


@transaction_type.field("amount")
def resolve_tx_amount(tx, _info):
    return Money(tx.amount, tx.currency)


@tax_type.field("rate")
def resolve_tax_rate(tax, _info):
    return f"{tax.rate:f}"


@run_type.field("failures")
def resolve_failures(run_row, _info):
    return [{"accountId": i.account_id, "periodStart": i.period_start, "error": i.error or ""}
            for i in db.session.scalars(sa.select(RunItem).where(
                RunItem.run_id == run_row.id, RunItem.status == "failed")
                .order_by(RunItem.account_id))]


@subscription_type.field("service")
def resolve_sub_service(sub, _info):
    return load(Service, sub.service_id) if sub.service_id else None


@subscription_type.field("package")
def resolve_sub_package(sub, _info):
    return load(Package, sub.package_id) if sub.package_id else None


# ------------------------------------------------------------------------------ on Account
# Batched: a page of 100 accounts with their subscriptions and invoices costs the same number
# of SQL statements as a page of 10.
@account_type.field("billingSubscriptions")
async def resolve_account_subscriptions(account, _info):
    rows = await load_related(Subscription, "account_id", account.id)
    return sorted(rows, key=lambda s: (s.start_date, s.id))


@account_type.field("billingInvoices")
async def resolve_account_invoices(account, _info, limit=20):
    limit = 20 if limit is None else limit  # an explicit null: the default (it crashed)
    if not 1 <= limit <= 100:
        raise FieldErrors({"limit": ["must be between 1 and 100"]})
    rows = await load_related(Invoice, "account_id", account.id)
    return sorted(rows, key=lambda i: (i.issue_date or date.max, i.id), reverse=True)[:limit]


# ------------------------------------------------------------------------------ queries
@query.field("billingServiceTypes")
def resolve_service_types(_obj, _info):
    return [{"key": t.key, "label": t.label, "charge": t.charge}
            for t in registered("service_types").values()]


def _one_of(value: str, allowed, name: str) -> str:
    """A filter value that must be one of a fixed set: refused with the set, never 500."""
    if value not in allowed:
        raise GraphQLUserError(f"filter.{name}: '{value}' is not one of {', '.join(allowed)}.")
    return value


def _search(*columns):
    """A filter function: any of ``columns`` contains the text (case-insensitive)."""
    def apply(stmt, text):
        text = text.strip()
        if not text:
            return stmt
        return stmt.where(sa.or_(*[c.icontains(text, autoescape=True) for c in columns]))
    return apply


def _filter_id(column, name: str):
    return lambda stmt, value: stmt.where(column == parse_id(value, name))


def _since(column):
    return lambda stmt, day: stmt.where(column >= day)


def _until(column):
    return lambda stmt, day: stmt.where(column <= day)


TAX_SORTS = {"key": TaxClass.key, "-key": TaxClass.key.desc(), "name": TaxClass.name,
             "-name": TaxClass.name.desc(), "rate": TaxClass.rate, "-rate": TaxClass.rate.desc()}


@query.field("billingTaxClasses")
def resolve_tax_classes(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, TAX_SORTS, "key")
    stmt = apply_filters(sa.select(TaxClass), filter,
                         {"search": _search(TaxClass.key, TaxClass.name)})
    return paginate(stmt, first, after, order_by=order_by)


FREQUENCIES = ("monthly", "quarterly", "yearly")
SERVICE_SORTS = {"name": Service.name, "-name": Service.name.desc(),
                 "price": (Service.price_amount, Service.name),
                 "-price": (Service.price_amount.desc(), Service.name),
                 "createdAt": Service.created_at, "-createdAt": Service.created_at.desc()}


def _service_tax_class(stmt, key):
    return stmt.where(Service.tax_class_id.in_(sa.select(TaxClass.id).where(TaxClass.key == key)))


@query.field("billingServices")
def resolve_services(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, SERVICE_SORTS, "name")
    f = dict(filter or {})
    if f.get("activeOnly") is False:
        f["activeOnly"] = None  # false: every service, retired ones too (as before)
    if f.get("frequency") is not None:
        _one_of(f["frequency"], FREQUENCIES, "frequency")
    stmt = apply_filters(sa.select(Service), f, {
        "activeOnly": lambda st, _v: st.where(Service.active),
        "active": Service.active,
        "search": _search(Service.name, Service.invoice_label),
        "type": Service.type_key,
        "frequency": Service.frequency,
        "taxClass": _service_tax_class,
        "currency": lambda st, v: st.where(Service.currency == v.upper()),
    })
    return paginate(stmt, first, after, order_by=order_by)


PACKAGE_SORTS = {"name": Package.name, "-name": Package.name.desc(),
                 "createdAt": Package.created_at, "-createdAt": Package.created_at.desc()}


def _package_contains(stmt, service_id):
    return stmt.where(Package.id.in_(sa.select(PackageItem.package_id).where(
        PackageItem.service_id == parse_id(service_id, "serviceId"))))


@query.field("billingPackages")
def resolve_packages(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, PACKAGE_SORTS, "name")
    f = dict(filter or {})
    if f.get("pricing") is not None:
        _one_of(f["pricing"], ("package", "sum"), "pricing")
    stmt = apply_filters(sa.select(Package), f, {
        "search": _search(Package.name, Package.invoice_label),
        "active": Package.active,
        "pricing": Package.pricing,
        "serviceId": _package_contains,
    })
    return paginate(stmt, first, after, order_by=order_by)


def account_summary(account_id: int) -> dict | None:
    row = billing_accounts.get(account_id)
    if row is None:
        return None
    autopay = row.autopay if row.autopay is not None else \
        billing_accounts.billing_settings.load().autopay
    has_method = db.session.scalar(sa.select(PaymentMethod.id).where(
        PaymentMethod.account_id == account_id, PaymentMethod.is_default).limit(1))
    subscriptions = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == account_id)
        .order_by(Subscription.start_date, Subscription.id)).all()
    return {"accountId": account_id, "currency": row.currency,
            "balance": billing_accounts.balance(account_id, row.currency),
            "amountDue": ledger.amount_due(account_id, row.currency),
            "credit": ledger.available_credit(account_id, row.currency),
            "delinquency": delinquency.standing(account_id),
            "billingDay": row.billing_day,
            "nextPeriodStart": next_billed_day(row.next_period_start, subscriptions),
            "autopay": bool(autopay and has_method),
            "subscriptions": subscriptions}


def next_billed_day(period_start, subscriptions) -> date | None:
    """The first day the next invoice bills: the cycle's start, or a later first
    subscription start inside it (a line starting on the 3rd is billed from the 3rd; the
    cycle beginning on the 1st is not what staff need to see)."""
    if period_start is None:
        return None
    starts = [s.start_date for s in subscriptions
              if s.end_date is None or s.end_date > period_start]
    if starts and min(starts) > period_start:
        return min(starts)
    return period_start


@query.field("billingAccount")
def resolve_account(_obj, _info, accountId):  # noqa: N803
    return account_summary(parse_id(accountId))


INVOICE_SORTS = {
    "createdAt": (Invoice.created_at, Invoice.id), "-createdAt": (Invoice.created_at.desc(),
                                                                  Invoice.id.desc()),
    "total": (Invoice.total_amount, Invoice.id), "-total": (Invoice.total_amount.desc(),
                                                            Invoice.id.desc()),
}


def _invoice_number(stmt, text):
    """INV-000042, 000042 or 42: the document number (digits), in any series."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise GraphQLUserError(f"filter.number: '{text}' has no digits (e.g. INV-000042).")
    if len(digits) > 18:
        return stmt.where(sa.false())
    return stmt.where(Invoice.number == int(digits))


def _invoice_open(stmt, value):
    is_open = Invoice.status.in_(("finalized", "partially_paid"))
    return stmt.where(is_open if value else ~is_open)


@query.field("billingInvoices")
def resolve_invoices(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, INVOICE_SORTS, "-createdAt")
    f = dict(filter or {})
    if f.get("status") is not None:
        _one_of(f["status"], INVOICE_STATUSES, "status")
    if f.get("kind") is not None:
        _one_of(f["kind"], ("invoice", "credit_note"), "kind")
    stmt = apply_filters(sa.select(Invoice), f, {
        "accountId": _filter_id(Invoice.account_id, "accountId"),
        "status": Invoice.status,
        "kind": Invoice.kind,
        "number": _invoice_number,
        "open": _invoice_open,
        "runId": _filter_id(Invoice.run_id, "runId"),
        "issuedFrom": _since(Invoice.issue_date),
        "issuedTo": _until(Invoice.issue_date),
        "dueBefore": lambda st, day: st.where(Invoice.due_date < day),
    })
    return paginate(stmt, first, after, order_by=order_by)


@query.field("billingInvoice")
def resolve_invoice(_obj, _info, id):  # noqa: A002
    return db.session.get(Invoice, parse_id(id))


TRANSACTION_SORTS = {
    "createdAt": (Transaction.created_at, Transaction.id),
    "-createdAt": (Transaction.created_at.desc(), Transaction.id.desc()),
    "amount": (Transaction.amount, Transaction.id),
    "-amount": (Transaction.amount.desc(), Transaction.id.desc()),
}


@query.field("billingTransactions")
def resolve_transactions(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                         sort=None):
    order_by = sort_order(sort, TRANSACTION_SORTS, "-createdAt")
    f = dict(filter or {})
    if f.get("kind") is not None:
        _one_of(f["kind"], TRANSACTION_KINDS, "kind")
    stmt = apply_filters(sa.select(Transaction), f, {
        "accountId": _filter_id(Transaction.account_id, "accountId"),
        "kind": Transaction.kind,
        "invoiceId": _filter_id(Transaction.invoice_id, "invoiceId"),
        "paymentId": _filter_id(Transaction.payment_id, "paymentId"),
        "since": lambda st, at: st.where(Transaction.created_at >= at),
        "before": lambda st, at: st.where(Transaction.created_at < at),
    })
    return paginate(stmt, first, after, order_by=order_by)


RUN_STATUSES = ("running", "completed", "completed_with_errors", "failed")
RUN_SORTS = {"runDate": (Run.run_date, Run.id), "-runDate": (Run.run_date.desc(), Run.id.desc()),
             "startedAt": (Run.started_at, Run.id),
             "-startedAt": (Run.started_at.desc(), Run.id.desc())}


@query.field("billingRuns")
def resolve_runs(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, RUN_SORTS, "-startedAt")
    f = dict(filter or {})
    if f.get("status") is not None:
        _one_of(f["status"], RUN_STATUSES, "status")
    stmt = apply_filters(sa.select(Run), f, {
        "status": Run.status,
        "from": _since(Run.run_date),
        "to": _until(Run.run_date),
        "withFailures": lambda st, v: st.where(Run.failed > 0 if v else Run.failed == 0),
    })
    return paginate(stmt, first, after, order_by=order_by)


@query.field("billingRunPreview")
def resolve_run_preview(_obj, _info, runDate=None, limit=20, accountId=None):  # noqa: N803
    due, items = run.preview(runDate or date.today(), limit=max(1, min(limit or 20, 100)),
                             account_ids=None if accountId is None else [parse_id(accountId)])
    out = []
    for item in items:
        draft = item.draft
        lines = [_draft_line(line, draft.currency) for line in draft.lines] if draft else []
        out.append({"accountId": item.account_id, "periodStart": item.period_start,
                    "total": draft.total if draft else None, "lines": lines,
                    "error": item.error})
    return {"accountsDue": due, "items": out}


def _draft_line(line, currency: str) -> dict:
    return {"kind": line.kind, "description": line.description, "quantity": line.quantity,
            "unit_price": line.unit_price, "amount": line.amount, "tax_rate": line.tax_rate,
            "tax": line.tax, "period_start": line.period.start if line.period else None,
            "period_end": line.period.end if line.period else None, "source": line.source,
            "currency": currency}


def _attr(line, name: str):
    """Lines are ORM rows (invoices) or dicts (the run preview)."""
    return line[name] if isinstance(line, dict) else getattr(line, name)


def _line_money(line, name: str, column: str) -> Money:
    if isinstance(line, dict):
        return line[name]
    return Money(getattr(line, column), line.invoice.currency)


for _name, _attr_name in (("kind", "kind"), ("description", "description"),
                          ("source", "source"), ("periodStart", "period_start"),
                          ("periodEnd", "period_end")):
    line_type.set_field(_name, lambda line, _info, a=_attr_name: _attr(line, a))
line_type.set_field("quantity", lambda line, _info: f"{_attr(line, 'quantity').normalize():f}")
line_type.set_field("taxRate", lambda line, _info: f"{_attr(line, 'tax_rate').normalize():f}")
line_type.set_field("unitPrice", lambda line, _info: _line_money(line, "unit_price",
                                                                 "unit_price_amount"))
line_type.set_field("amount", lambda line, _info: _line_money(line, "amount", "amount"))
line_type.set_field("tax", lambda line, _info: _line_money(line, "tax", "tax_amount"))


@query.field("billingSuspensionPreview")
def resolve_suspension_preview(_obj, _info, day=None, includeSpared=False):  # noqa: N803
    return [{"accountId": e.account_id, "reason": e.reason, "excluded": e.excluded,
             "invoices": [number for number, _, _ in e.invoices]}
            for e in delinquency.preview(day, include_spared=bool(includeSpared))]


#: the object types bound here (graphql_contribution.py assembles the schema)
BINDABLES = (query, service_type, package_type, subscription_type, invoice_type, line_type,
             transaction_type, payment_type, run_type, tax_type, account_type)

__all__ = ["BINDABLES", "SDL", "account_summary"]
