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
    ObjectType,
    QueryType,
    load,
    load_related,
    paginate,
    parse_id,
    set_aliases,
)

from . import accounts as billing_accounts
from . import delinquency, ledger, run
from .models import (
    Invoice,
    InvoiceLine,
    Package,
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
    if not 1 <= limit <= 100:
        raise FieldErrors({"limit": ["must be between 1 and 100"]})
    rows = await load_related(Invoice, "account_id", account.id)
    return sorted(rows, key=lambda i: (i.issue_date or date.max, i.id), reverse=True)[:limit]


# ------------------------------------------------------------------------------ queries
@query.field("billingServiceTypes")
def resolve_service_types(_obj, _info):
    return [{"key": t.key, "label": t.label, "charge": t.charge}
            for t in registered("service_types").values()]


@query.field("billingTaxClasses")
def resolve_tax_classes(_obj, _info):
    return db.session.scalars(sa.select(TaxClass).order_by(TaxClass.key)).all()


@query.field("billingServices")
def resolve_services(_obj, _info, activeOnly=False):  # noqa: N803
    stmt = sa.select(Service).order_by(Service.name)
    if activeOnly:
        stmt = stmt.where(Service.active)
    return db.session.scalars(stmt).all()


@query.field("billingPackages")
def resolve_packages(_obj, _info):
    return db.session.scalars(sa.select(Package).order_by(Package.name)).all()


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


@query.field("billingInvoices")
def resolve_invoices(_obj, _info, accountId=None, status=None, first=None,  # noqa: N803
                     after=None):
    stmt = sa.select(Invoice)
    if accountId is not None:
        stmt = stmt.where(Invoice.account_id == parse_id(accountId))
    if status:
        stmt = stmt.where(Invoice.status == status)
    return paginate(stmt, first, after, order_by=Invoice.id.desc())


@query.field("billingInvoice")
def resolve_invoice(_obj, _info, id):  # noqa: A002
    return db.session.get(Invoice, parse_id(id))


@query.field("billingTransactions")
def resolve_transactions(_obj, _info, accountId, first=None, after=None):  # noqa: N803
    return paginate(sa.select(Transaction).where(Transaction.account_id == parse_id(accountId)),
                    first, after, order_by=Transaction.id.desc())


@query.field("billingRuns")
def resolve_runs(_obj, _info, first=None, after=None):
    return paginate(sa.select(Run), first, after, order_by=Run.id.desc())


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
