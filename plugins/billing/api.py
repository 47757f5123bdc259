"""Billing's published API: what other plugins may import (declare ``depends_on=("billing",)``).

Everything here is a plain frozen dataclass or a function returning them; no ORM object
leaks out, so billing may change its tables without breaking a dependent. The rest of the
billing package is private (the boundary test in ``tests/core`` enforces it).

* **Catalogue and subscriptions** (read-only): the network plugin asks which accounts have
  a data service and at what speed; a usage plugin asks for allowances.
* **Payment outcomes**: :func:`record_payment_outcome` is the one road from a payment
  gateway plugin (a webhook, a late answer, a payment the customer made at the processor)
  into billing's ledger.
* **Invoice lines**: :class:`ContributedLine` and :class:`Period` for implementers of
  billing's ``invoice_lines`` hook (see ``hookspecs.py``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from backhaul.sdk import Money, PaymentStatus

from .compose import ExtraLine as ContributedLine
from .cycles import Period
from .gateway_outcomes import PaymentOutcome
from .queries import ServiceInfo, SubscriptionInfo


def get_service(service_id: int) -> ServiceInfo | None:
    from .queries import service_info

    return service_info(service_id)


def list_services(*, type_key: str | None = None, active_only: bool = True) -> list[ServiceInfo]:
    from .queries import services

    return services(type_key=type_key, active_only=active_only)


def service_type_parameters(type_key: str) -> list[dict]:
    """``[{name, type, required, label, ...}]`` of a registered service type (``[]`` when it
    has no parameters). Raises ``ValidationError`` (field ``type``) for an unknown key."""
    from .catalogue import service_type
    from .parameters import describe_schema

    return describe_schema(service_type(type_key).parameters_schema)


def subscriptions(*, account_ids: Iterable[int] | None = None,
                  type_keys: Iterable[str] | None = None,
                  on: date | None = None,
                  subscription_ids: Iterable[int] | None = None) -> list[SubscriptionInfo]:
    """Subscriptions active on ``on`` (default today): started on or before it and not ended
    (``end_date`` is exclusive). Packages are expanded to their items. ``subscription_ids``
    limits the answer to those (a RADIUS lookup of one service need not load them all)."""
    from .queries import subscription_infos

    return subscription_infos(account_ids=account_ids, type_keys=type_keys,
                              on=on or date.today(), subscription_ids=subscription_ids)


def get_subscription(subscription_id: int) -> SubscriptionInfo | None:
    """The first item of a subscription (its only one, unless it is a package line)."""
    from .queries import subscription_infos

    found = subscription_infos(subscription_ids=[subscription_id])
    return found[0] if found else None


def record_payment_outcome(gateway: str, key: str, status: PaymentStatus | str, *,
                           reference: str | None = None, message: str = "",
                           account_id: int | None = None, amount: Money | None = None,
                           method: str = "card", received_on: date | None = None,
                           invoice_id: int | None = None) -> PaymentOutcome:
    """Record what a payment gateway says happened to a payment; idempotent by ``key``.

    ``key`` is either the idempotency key billing passed to ``PaymentGateway.purchase``
    (it is also in the call's ``metadata["idempotency_key"]``, so a webhook can carry it
    back) — then the answer settles that auto-pay attempt, late or not — or, for a payment
    billing did not start (the customer paid at the processor), the processor's unique id
    of the payment: then ``account_id`` and ``amount`` are required and a ``processed``
    outcome records a payment of ``method`` on the account.

    A repeat with the same facts changes nothing. A repeat that contradicts the first
    (another account, amount, currency or method) raises ``ValidationError`` naming the
    field; so does a ``gateway`` other than the attempt's. Commits its own unit of work;
    what follows (delinquency, notices) runs after the commit.
    """
    from .gateway_outcomes import record

    return record(gateway, key, PaymentStatus(status), reference=reference, message=message,
                  account_id=account_id, amount=amount, method=method,
                  received_on=received_on, invoice_id=invoice_id)


@dataclass(frozen=True)
class SavedPaymentMethod:
    id: int
    gateway: str
    method_ref: str
    label: str
    is_default: bool


def save_payment_method(account_id: int, gateway: str, method_ref: str, label: str = "",
                        make_default: bool = True) -> SavedPaymentMethod:
    """Store a gateway's saved method (``PaymentGateway.finish_setup``'s ``SavedMethod``) for
    the account; the default one is what auto-pay charges. Raises ``ValidationError``
    (``gateway``, ``method_ref``). The caller commits."""
    from .autopay import add_payment_method

    row = add_payment_method(account_id, gateway, method_ref, label, make_default)
    return SavedPaymentMethod(row.id, row.gateway, row.method_ref, row.label, row.is_default)


def payment_methods(account_id: int) -> list[SavedPaymentMethod]:
    """The account's saved methods, the default first."""
    import sqlalchemy as sa

    from backhaul.sdk import db

    from .models import PaymentMethod

    rows = db.session.scalars(sa.select(PaymentMethod).where(
        PaymentMethod.account_id == account_id).order_by(PaymentMethod.is_default.desc(),
                                                         PaymentMethod.id.desc()))
    return [SavedPaymentMethod(r.id, r.gateway, r.method_ref, r.label, r.is_default)
            for r in rows]


__all__ = ["ContributedLine", "PaymentOutcome", "Period", "SavedPaymentMethod", "ServiceInfo",
           "SubscriptionInfo", "get_service", "get_subscription", "list_services",
           "payment_methods", "record_payment_outcome", "save_payment_method",
           "service_type_parameters", "subscriptions"]


# ----------------------------------------------------------------- a customer's own account
# For the customer portal (and any self-service plugin): every function answers only about
# the account the caller authenticated; an invoice id of another account is ``None``.
from .customer import (  # noqa: E402
    AccountBilling,
    InvoiceInfo,
    InvoiceLineInfo,
    TransactionInfo,
)


def customer_billing(account_id: int) -> AccountBilling:
    """Balance, amount due, credit, standing (current / overdue / delinquent) and auto-pay."""
    from .customer import account_billing

    return account_billing(account_id)


def customer_invoices(account_id: int, *, open_only: bool = False,
                      limit: int = 50) -> list[InvoiceInfo]:
    """The account's invoices and credit notes (never drafts), newest first; ``open_only``:
    the unpaid invoices, oldest due first. At most 200."""
    from .customer import invoices

    return invoices(account_id, open_only=open_only, limit=limit)


def customer_invoice(account_id: int, invoice_id: int) -> InvoiceInfo | None:
    """One invoice of the account with its lines; ``None`` when it is not the account's."""
    from .customer import invoice

    return invoice(account_id, invoice_id)


def customer_invoice_pdf(account_id: int, invoice_id: int) -> tuple[str, bytes] | None:
    """``(file name, PDF)`` of one invoice of the account (billing's own rendering, as
    e-mailed); ``None`` when it is not the account's."""
    from .customer import invoice_pdf

    return invoice_pdf(account_id, invoice_id)


def customer_transactions(account_id: int, limit: int = 50) -> list[TransactionInfo]:
    """The account's ledger rows, newest first (at most 200)."""
    from .customer import transactions

    return transactions(account_id, limit)


def set_customer_autopay(account_id: int, on: bool) -> AccountBilling:
    """Turn auto-pay on or off for the account (its own override of the default). Flushes;
    the caller commits and decides who may (the portal honours the ISP's lock)."""
    from .customer import set_autopay

    return set_autopay(account_id, on)


__all__ += ["AccountBilling", "InvoiceInfo", "InvoiceLineInfo", "TransactionInfo",
            "customer_billing", "customer_invoice", "customer_invoice_pdf",
            "customer_invoices", "customer_transactions", "set_customer_autopay"]
