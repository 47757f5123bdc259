"""Load what a set of accounts needs for invoicing, in a constant number of queries.

The billing run and its preview call :func:`load_accounts` for a chunk of accounts: one
query for subscriptions, one for pending charges, one for adjustments (and one for the
``Account`` rows, only when some plugin implements ``invoice_lines``) — whatever the
chunk's size. The catalogue (services, packages, tax classes) is small and is loaded once
per run into plain snapshots, so nothing expires when a chunk commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from backhaul.sdk import Money, call_hook, db, hook_implementers

from . import settings as billing_settings
from .bulk import in_ids
from .compose import (
    AccountTerms,
    AdjustmentTerms,
    ExtraLine,
    OneTimeCharge,
    SubscriptionLine,
    compose,
)
from .cycles import Calendar, Period
from .models import Adjustment, Charge, Package, PackageItem, Service, Subscription, TaxClass
from .proration import SubscriptionTerms
from .subscriptions import adjustment_terms, charge_terms, lines_for


@dataclass(frozen=True)
class ServiceSnap:
    id: int
    name: str
    label: str
    price_amount: int
    currency: str
    frequency: str
    prorate: bool
    tax_class_id: int | None
    price: Money = None  # type: ignore[assignment]

    def __post_init__(self):
        object.__setattr__(self, "price", Money(self.price_amount, self.currency))


@dataclass(frozen=True)
class ItemSnap:
    service: ServiceSnap
    quantity: int


@dataclass(frozen=True)
class PackageSnap:
    id: int
    label: str
    pricing: str
    price_amount: int | None
    currency: str
    frequency: str
    prorate: bool
    tax_class_id: int | None
    items: tuple[ItemSnap, ...]


@dataclass
class Catalogue:
    services: dict[int, ServiceSnap]
    packages: dict[int, PackageSnap]
    tax_keys: dict[int, str]
    tax_rates: dict[str, Decimal]

    @classmethod
    def load(cls) -> Catalogue:
        services = {s.id: ServiceSnap(s.id, s.name, s.label, s.price_amount, s.currency,
                                      s.frequency, s.prorate, s.tax_class_id)
                    for s in db.session.scalars(sa.select(Service))}
        items = defaultdict(list)
        for item in db.session.scalars(sa.select(PackageItem).order_by(PackageItem.id)):
            items[item.package_id].append(ItemSnap(services[item.service_id], item.quantity))
        packages = {p.id: PackageSnap(p.id, p.label, p.pricing, p.price_amount, p.currency,
                                      p.frequency, p.prorate, p.tax_class_id,
                                      tuple(items[p.id]))
                    for p in db.session.scalars(sa.select(Package))}
        taxes = db.session.execute(sa.select(TaxClass.id, TaxClass.key, TaxClass.rate)).all()
        return cls(services, packages, {i: k for i, k, _ in taxes},
                   {k: Decimal(r) for _, k, r in taxes})


@dataclass
class AccountSnapshot:
    """Everything :func:`compose` needs for one account and one period."""

    account_id: int
    period: Period
    cal: Calendar
    terms: AccountTerms
    due_days: int
    subscriptions: list[SubscriptionLine] = field(default_factory=list)
    charges: list[OneTimeCharge] = field(default_factory=list)
    adjustments: list[AdjustmentTerms] = field(default_factory=list)
    extra_lines: list[ExtraLine] = field(default_factory=list)
    error: str | None = None

    def compose(self, tax_rates: dict[str, Decimal]):
        return compose(self.terms, self.period, self.cal, self.subscriptions, self.charges,
                       self.adjustments, self.extra_lines, tax_rates)


def _not_finished():
    """Subscriptions that may still produce a charge or a credit."""
    return sa.or_(Subscription.end_date.is_(None), Subscription.billed_through.is_(None),
                  Subscription.billed_through != Subscription.end_date)


def load_accounts(rows, catalogue: Catalogue,
                  defaults: billing_settings.Defaults) -> dict[int, AccountSnapshot]:
    """Snapshots for ``rows`` (``BillingAccount``-like rows with ``next_period_start``)."""
    snaps: dict[int, AccountSnapshot] = {}
    shared: dict[tuple, tuple] = {}  # most accounts share their settings: build them once
    for row in rows:
        key = (row.currency, row.billing_day, row.due_days, row.grace_days, row.autopay,
               row.delivery, row.tax_exempt, row.delinquency_excluded)
        if key not in shared:
            settings = billing_settings.effective(row, defaults)
            printed = settings.delivery == "printed" and defaults.printed_invoice_fee.amount > 0
            shared[key] = (Calendar(row.billing_day), settings.due_days, AccountTerms(
                row.currency, settings.tax_exempt,
                defaults.printed_invoice_fee if printed else None))
        cal, due_days, terms = shared[key]
        snaps[row.account_id] = AccountSnapshot(
            row.account_id, cal.period_containing(row.next_period_start), cal, terms, due_days)
    ids = list(snaps)
    if not ids:
        return snaps
    t = Subscription.__table__
    subs = db.session.execute(sa.select(
        t.c.id, t.c.account_id, t.c.service_id, t.c.package_id, t.c.quantity,
        t.c.price_override_amount, t.c.price_override_currency, t.c.start_date, t.c.end_date,
        t.c.billed_through, t.c.description).where(
        in_ids(Subscription.account_id, ids), _not_finished()).order_by(Subscription.id))
    plain: dict[int, tuple] = {}  # service id -> what a plain subscription line shares
    for sub in subs:
        snap = snaps[sub.account_id]
        if (sub.service_id is not None and sub.price_override_amount is None
                and not sub.description):  # the common case, without the general path
            shared_line = plain.get(sub.service_id)
            if shared_line is None:
                service = catalogue.services[sub.service_id]
                shared_line = plain[sub.service_id] = (
                    service.price, service.frequency, service.prorate, service.label,
                    catalogue.tax_keys.get(service.tax_class_id))
            price, frequency, prorate, label, tax = shared_line
            snap.subscriptions.append(SubscriptionLine(SubscriptionTerms(
                sub.id, sub.start_date, sub.end_date, sub.billed_through, price,
                sub.quantity, frequency, prorate), label, tax, "service"))
            continue
        try:
            snap.subscriptions += lines_for(sub, catalogue.services.get(sub.service_id),
                                            catalogue.packages.get(sub.package_id),
                                            catalogue.tax_keys)
        except Exception as exc:
            snap.error = f"subscription #{sub.id}: {type(exc).__name__}: {exc}"
    for charge in db.session.execute(sa.select(Charge.__table__).where(
            in_ids(Charge.account_id, ids), Charge.invoice_id.is_(None)).order_by(Charge.id)):
        snaps[charge.account_id].charges.append(charge_terms(charge, catalogue.tax_keys))
    for adj in db.session.execute(sa.select(Adjustment.__table__).where(
            in_ids(Adjustment.account_id, ids), sa.not_(Adjustment.exhausted))
            .order_by(Adjustment.id)):
        snaps[adj.account_id].adjustments.append(adjustment_terms(adj))
    _contributed_lines(snaps)
    return snaps


def _as_line(plugin: str, item) -> ExtraLine:
    if isinstance(item, ExtraLine):
        return item if item.source else ExtraLine(**{**item.__dict__, "source": plugin})
    data = dict(item)
    data.setdefault("source", plugin)
    if "quantity" in data:
        data["quantity"] = Decimal(str(data["quantity"]))
    return ExtraLine(**data)


def _contributed_lines(snaps: dict[int, AccountSnapshot]) -> None:
    """Ask other plugins (``invoice_lines``); a plugin that fails fails that account."""
    if not hook_implementers("invoice_lines"):
        return
    from backhaul.sdk.accounts import Account

    accounts = {a.id: a for a in db.session.scalars(
        sa.select(Account).where(in_ids(Account.id, snaps)))}
    for account_id, snap in snaps.items():
        failures = []
        answers = call_hook("invoice_lines", account=accounts[account_id], period=snap.period,
                            on_error=lambda name, exc, f=failures: f.append((name, exc)))
        if failures:
            name, exc = failures[0]
            snap.error = f"plugin '{name}' failed in invoice_lines: {type(exc).__name__}: {exc}"
            continue
        try:
            snap.extra_lines = [_as_line(plugin, item) for plugin, answer in answers
                                for item in (answer or ())]
        except Exception as exc:
            snap.error = f"invalid invoice_lines answer: {type(exc).__name__}: {exc}"


__all__ = ["AccountSnapshot", "Catalogue", "load_accounts"]
