"""Compose one account's invoice for one period from plain snapshots. Pure: no database.

The billing run, the preview and a manual "bill now" all call :func:`compose` with
snapshots they loaded (in bulk, for the run), so what the preview shows is exactly what the
run will bill. Order of the lines, and why:

1. subscriptions (services and packages), rated by :mod:`.proration`;
2. one-time charges dated before the period ends;
3. lines contributed by other plugins through ``invoice_lines`` (usage: free and billable
   usage as separate lines);
4. adjustments: percentage discounts split per tax class (so the tax falls with them),
   fixed amounts capped so that nothing goes below zero;
5. fees: the printed-invoice fee (never discounted).

Taxes are computed per line at the line's tax-class rate (zero when the account is
tax-exempt) and rounded per line; totals are sums (see :mod:`.rating`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from backhaul.sdk import Money

from .cycles import Calendar, Period
from .proration import Charge, SubscriptionTerms, subscription_charges
from .rating import extend, percent_of, tax_on, total

SUBSCRIPTION_KINDS = ("service", "package")


@dataclass(frozen=True)
class SubscriptionLine:
    """A subscription (or one component of a package priced as the sum of its parts)."""

    terms: SubscriptionTerms
    label: str
    tax_class: str | None = None
    kind: str = "service"


@dataclass(frozen=True)
class OneTimeCharge:
    id: int
    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)
    tax_class: str | None = None
    day: date | None = None


@dataclass(frozen=True)
class AdjustmentTerms:
    """A discount or credit: ``mode`` fixed (``amount``) or percent (``percent``)."""

    id: int
    label: str
    mode: str
    amount: Money | None = None
    percent: Decimal | None = None
    recurring: bool = False
    start: date | None = None
    end: date | None = None
    subscription_id: int | None = None
    #: for a one-time fixed credit: what is still to be applied (carried to later invoices)
    remaining: Money | None = None
    kind: str = "discount"

    def applies_to(self, period: Period) -> bool:
        if self.start is not None and self.start >= period.end:
            return False
        return self.end is None or self.end > period.start


@dataclass(frozen=True)
class ExtraLine:
    """A line contributed by another plugin (``invoice_lines`` hook)."""

    description: str
    unit_price: Money
    quantity: Decimal = Decimal(1)
    amount: Money | None = None
    tax_class: str | None = None
    kind: str = "usage"
    period: Period | None = None
    source: str = ""


@dataclass(frozen=True)
class AccountTerms:
    currency: str
    tax_exempt: bool = False
    printed_fee: Money | None = None


@dataclass
class LineDraft:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    tax_class: str | None
    tax_rate: Decimal
    tax: Money
    period: Period | None = None
    subscription_id: int | None = None
    charge_id: int | None = None
    adjustment_id: int | None = None
    source: str = "billing"


@dataclass
class InvoiceDraft:
    currency: str
    period: Period
    lines: list[LineDraft] = field(default_factory=list)
    #: subscription id -> new billed-through date
    billed_through: dict[int, date | None] = field(default_factory=dict)
    charge_ids: list[int] = field(default_factory=list)
    #: adjustment id -> amount consumed (a positive Money) for one-time adjustments
    adjustments_used: dict[int, Money] = field(default_factory=dict)

    @property
    def subtotal(self) -> Money:
        return total((line.amount for line in self.lines), self.currency)

    @property
    def tax_total(self) -> Money:
        return total((line.tax for line in self.lines), self.currency)

    @property
    def total(self) -> Money:
        return self.subtotal + self.tax_total

    @property
    def is_empty(self) -> bool:
        return not any(line.kind != "fee" for line in self.lines)


class LineBuilder:
    def __init__(self, draft: InvoiceDraft, terms: AccountTerms, rates: dict[str, Decimal]):
        self.draft, self.terms, self.rates = draft, terms, rates

    def rate(self, tax_class: str | None) -> Decimal:
        if self.terms.tax_exempt or tax_class is None:
            return Decimal(0)
        try:
            return self.rates[tax_class]
        except KeyError:
            raise ValueError(f"tax class '{tax_class}' does not exist: create it in the "
                             f"catalogue or fix the service") from None

    def add(self, kind: str, description: str, quantity, unit_price: Money, amount: Money,
            tax_class: str | None, **extra) -> LineDraft:
        rate = self.rate(tax_class)
        line = LineDraft(kind, description, Decimal(quantity), unit_price, amount, tax_class,
                         rate, tax_on(amount, rate), **extra)
        self.draft.lines.append(line)
        return line


def _charge_description(label: str, charge: Charge) -> str:
    if charge.is_credit:
        return f"Credit: {label}, unused {charge.piece.label()}"
    suffix = f" (prorated {charge.piece.days}/{charge.cycle.days} days)" if (
        charge.is_partial and charge.amount != charge.full_price) else ""
    return f"{label}, {charge.piece.label()}{suffix}"


def compose(account: AccountTerms, period: Period, cal: Calendar,
            subscriptions=(), charges=(), adjustments=(), extra_lines=(),
            tax_rates: dict[str, Decimal] | None = None) -> InvoiceDraft:
    """The invoice draft for ``period``; :attr:`InvoiceDraft.is_empty` when nothing is due."""
    draft = InvoiceDraft(account.currency, period)
    build = LineBuilder(draft, account, tax_rates or {})
    for sub in subscriptions:
        rated, billed = subscription_charges(sub.terms, period, cal)
        draft.billed_through[sub.terms.id] = billed
        for charge in rated:
            build.add(sub.kind, _charge_description(sub.label, charge), sub.terms.quantity,
                      sub.terms.unit_price, charge.amount, sub.tax_class, period=charge.piece,
                      subscription_id=sub.terms.id)
    for charge in charges:
        if charge.day is not None and charge.day >= period.end:
            continue
        build.add("charge", charge.description, charge.quantity, charge.unit_price,
                  extend(charge.unit_price, charge.quantity), charge.tax_class,
                  charge_id=charge.id)
        draft.charge_ids.append(charge.id)
    for extra in extra_lines:
        amount = extra.amount if extra.amount is not None else extend(extra.unit_price,
                                                                      extra.quantity)
        build.add(extra.kind, extra.description, extra.quantity, extra.unit_price, amount,
                  extra.tax_class, period=extra.period, source=extra.source or "plugin")
    for adjustment in adjustments:
        if adjustment.applies_to(period) and not draft.is_empty:
            _apply_adjustment(build, adjustment)
    if account.printed_fee and not draft.is_empty:
        build.add("fee", "Printed invoice fee", 1, account.printed_fee, account.printed_fee,
                  None)
    return draft


def _apply_adjustment(build: LineBuilder, adj: AdjustmentTerms) -> None:
    draft = build.draft
    base = [line for line in draft.lines if line.kind in SUBSCRIPTION_KINDS and (
        adj.subscription_id is None or line.subscription_id == adj.subscription_id)]
    by_class: dict[str | None, Money] = defaultdict(lambda: Money.zero(draft.currency))
    for line in base:
        by_class[line.tax_class] = by_class[line.tax_class] + line.amount
    label = adj.label or ("Credit" if adj.kind == "credit" else "Discount")
    if adj.mode == "percent":
        used = Money.zero(draft.currency)
        for tax_class, amount in by_class.items():
            if amount.amount > 0:
                off = percent_of(amount, adj.percent)
                build.add("adjustment", f"{label} ({adj.percent.normalize():f}%)", 1, -off, -off,
                          tax_class,
                          adjustment_id=adj.id)
                used = used + off
        if not adj.recurring and used.amount > 0:
            draft.adjustments_used[adj.id] = used
        return
    wanted = adj.remaining if adj.remaining is not None else adj.amount
    if adj.subscription_id is not None:
        tax_class = base[0].tax_class if base else None
        cap = by_class[tax_class]
    else:
        tax_class, cap = None, draft.total
    off = min(wanted, cap) if cap.amount > 0 else Money.zero(draft.currency)
    if off.amount <= 0:
        return
    build.add("adjustment", label, 1, -off, -off, tax_class, adjustment_id=adj.id)
    if not adj.recurring:
        draft.adjustments_used[adj.id] = off


__all__ = ["AccountTerms", "AdjustmentTerms", "ExtraLine", "InvoiceDraft", "LineDraft",
           "OneTimeCharge", "SubscriptionLine", "compose"]
