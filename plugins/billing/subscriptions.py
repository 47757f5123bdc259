"""Subscriptions: service and package lines on an account, one-time charges, adjustments.

Changes are dated. A change of price, quantity or service on date ``d`` *splits* the line:
the current subscription ends on ``d`` and a new one (``previous_id`` pointing back) starts
on ``d``. What that means for a subscriber already billed past ``d`` (billing is in advance):

* **prorated services**: the next invoice credits the old line for ``[d, billed_through)``
  and charges the new line from ``d`` to the end of its cycle — the customer pays the old
  price up to ``d`` and the new one after, to the day;
* **services without proration**: the cycle already billed is not re-rated; the new line
  starts billing where the old one was billed through (the new price applies from the next
  cycle).

Scheduled price and service changes (``billing.price_change``, ``billing.service_change``)
are scheduled-event types contributed to the core; when due they call
:func:`change_subscription` with the event's date, so they follow the same rules.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from backhaul.sdk import Money, db, emit

from . import accounts as billing_accounts
from . import settings as billing_settings
from .catalogue import is_one_time, money
from .compose import AdjustmentTerms, OneTimeCharge, SubscriptionLine
from .errors import bounded_date, bounded_quantity, clean_text, invalid
from .models import Adjustment, Charge, Package, Service, Subscription, TaxClass
from .proration import SubscriptionTerms


def _quantity(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("quantity", "must be a whole number of units, such as 1")
    if value <= 0:
        raise invalid("quantity", f"must be at least 1 (got {value}); end the subscription "
                                  "instead of setting it to zero")
    return value


def _dates(start: date, end: date | None) -> None:
    if not isinstance(start, date):
        raise invalid("start_date", "is required")
    if end is not None and end <= start:
        raise invalid("end_date", f"must be after the start date ({start.isoformat()})")


def _overlapping(account_id: int, service_id, package_id, start: date, end: date | None,
                 ignore: int | None = None) -> Subscription | None:
    target = (Subscription.service_id == service_id if service_id is not None
              else Subscription.package_id == package_id)
    query = sa.select(Subscription).where(
        Subscription.account_id == account_id, target,
        sa.or_(Subscription.end_date.is_(None), Subscription.end_date > start))
    if end is not None:
        query = query.where(Subscription.start_date < end)
    if ignore is not None:
        query = query.where(Subscription.id != ignore)
    return db.session.scalars(query.limit(1)).first()


def subscribe(account_id: int, *, service: Service | None = None,
              package: Package | None = None, quantity: int = 1,
              price_override: Money | str | None = None, start_date: date,
              end_date: date | None = None, description: str = "",
              previous: Subscription | None = None) -> Subscription:
    """Add a service or package line; every check runs before anything is written."""
    if (service is None) == (package is None):
        raise invalid("service", "give a service or a package (exactly one)")
    item = service or package
    quantity = _quantity(quantity)
    _dates(start_date, end_date)
    if not item.active:
        raise invalid("service", f"'{item.name}' is retired and cannot be subscribed to")
    if service is not None and is_one_time(service):
        raise invalid("service", f"'{service.name}' is a one-time charge: add it as a charge")
    row = billing_accounts.get(account_id)
    currency = row.currency if row else billing_settings.load().currency
    if item.currency != currency:
        raise invalid("service", f"'{item.name}' is priced in {item.currency} but the account "
                                 f"is billed in {currency}")
    override = None
    if price_override is not None and price_override != "":
        if isinstance(price_override, Money) and price_override.currency != currency:
            raise invalid("price_override", f"is in {price_override.currency} but the account "
                                            f"is billed in {currency}: give a {currency} price")
        override = money(price_override, currency, "price_override")
        if override.amount < 0:
            raise invalid("price_override", "must not be negative (use a discount instead)")
    clash = _overlapping(account_id, service and service.id, package and package.id,
                         start_date, end_date, ignore=previous and previous.id)
    if clash is not None:
        until = clash.end_date.isoformat() if clash.end_date else "open-ended"
        raise invalid("start_date", f"'{item.name}' is already subscribed from "
                                    f"{clash.start_date.isoformat()} to {until}; end that "
                                    "subscription first or change it instead")
    row = billing_accounts.ensure(account_id, start_date)
    billing_accounts.schedule_from(row, start_date)
    sub = Subscription(account_id=account_id, service=service, package=package,
                       quantity=quantity, start_date=start_date, end_date=end_date,
                       price_override_amount=override.amount if override else None,
                       price_override_currency=override.currency if override else None,
                       description=description, previous_id=previous and previous.id)
    db.session.add(sub)
    db.session.flush()
    emit("service_changed", account_id=account_id, subscription_id=sub.id, change="added")
    return sub


def end_subscription(sub: Subscription, end_date: date) -> Subscription:
    """End the line on ``end_date`` (exclusive); prorated services are credited the rest."""
    _dates(sub.start_date, end_date)
    sub.end_date = end_date
    db.session.flush()
    emit("service_changed", account_id=sub.account_id, subscription_id=sub.id, change="ended")
    return sub


_UNSET = object()


def change_subscription(sub: Subscription, effective: date, *, price_override=_UNSET,
                        quantity: int | None = None, service: Service | None = None,
                        package: Package | None = None) -> Subscription:
    """Split ``sub`` at ``effective`` with new terms (see the module docstring).

    Idempotent: when ``sub`` already ends at ``effective`` with a successor, that successor
    is returned unchanged.
    """
    successor = db.session.scalar(sa.select(Subscription).where(
        Subscription.previous_id == sub.id, Subscription.start_date == effective))
    if successor is not None:
        return successor
    if effective <= sub.start_date:
        raise invalid("effective_date", f"must be after the subscription's start "
                                        f"({sub.start_date.isoformat()})")
    if sub.end_date is not None and effective >= sub.end_date:
        raise invalid("effective_date", "the subscription has ended by then")
    new_service = service if service is not None or package is not None else sub.service
    new_package = package if service is not None or package is not None else sub.package
    override = sub.price_override if price_override is _UNSET else price_override
    item = sub.item
    new = subscribe(sub.account_id, service=new_service, package=new_package,
                    quantity=sub.quantity if quantity is None else quantity,
                    price_override=override, start_date=effective, end_date=sub.end_date,
                    description=sub.description, previous=sub)
    sub.end_date = effective
    if not item.prorate and sub.billed_through and sub.billed_through > effective:
        new.billed_through = sub.billed_through  # the billed cycle is not re-rated
    db.session.flush()
    emit("service_changed", account_id=sub.account_id, subscription_id=sub.id, change="changed")
    return new


# ------------------------------------------------------------------------------ charges
def add_charge(account_id: int, description: str, unit_price: Money | str, *,
               quantity: Decimal | int | str = 1, charge_date: date,
               service: Service | None = None, tax_class: TaxClass | None = None,
               key: str | None = None) -> Charge:
    """A one-time charge, billed on the next invoice (idempotent with ``key``)."""
    if key is not None:
        existing = db.session.scalar(sa.select(Charge).where(Charge.key == key))
        if existing is not None:
            return existing
    description = clean_text("description", description, max_length=300)
    qty = bounded_quantity("quantity", quantity)
    bounded_date("charge_date", charge_date)
    row = billing_accounts.ensure(account_id, charge_date)
    price = money(unit_price, row.currency, "unit_price")
    if price.amount <= 0:
        raise invalid("unit_price", "must be greater than zero: give money back with a "
                                    "credit (an adjustment of kind 'credit') instead")
    if service is not None and service.currency != row.currency:
        raise invalid("service", f"'{service.name}' is priced in {service.currency}")
    billing_accounts.schedule_from(row, charge_date)
    charge = Charge(account_id=account_id, description=description, quantity=qty,
                    unit_price_amount=price.amount, currency=price.currency,
                    charge_date=charge_date, key=key,
                    service_id=service and service.id,
                    tax_class_id=(tax_class.id if tax_class else
                                  service.tax_class_id if service else None))
    db.session.add(charge)
    db.session.flush()
    return charge


def add_adjustment(account_id: int, *, mode: str, amount: Money | str | None = None,
                   percent: Decimal | str | None = None, recurring: bool = False,
                   start_date: date, end_date: date | None = None,
                   subscription: Subscription | None = None, label: str = "",
                   kind: str = "discount") -> Adjustment:
    """A discount or credit; fixed (``amount``) or percentage (``percent``)."""
    if kind not in ("discount", "credit"):
        raise invalid("kind", "must be 'discount' or 'credit'")
    label = clean_text("label", label, max_length=200, required=False)
    _dates(start_date, end_date)
    bounded_date("start_date", start_date)
    row = billing_accounts.ensure(account_id, start_date)
    fixed = pct = None
    if mode == "fixed":
        fixed = money(amount if amount is not None else "", row.currency, "amount")
        if fixed.amount <= 0:
            raise invalid("amount", "must be greater than zero")
    elif mode == "percent":
        try:
            pct = Decimal(str(percent))
        except InvalidOperation:
            raise invalid("percent", "must be a number such as 10") from None
        if not pct.is_finite() or not 0 < pct <= 100:
            raise invalid("percent", "must be more than 0 and at most 100")
    else:
        raise invalid("mode", "must be 'fixed' or 'percent'")
    if subscription is not None and subscription.account_id != account_id:
        raise invalid("subscription", "belongs to another account")
    adj = Adjustment(account_id=account_id, kind=kind, mode=mode,
                     amount=fixed.amount if fixed else None,
                     currency=fixed.currency if fixed else None, percent=pct,
                     recurring=recurring, start_date=start_date, end_date=end_date,
                     subscription_id=subscription and subscription.id, label=label,
                     remaining=fixed.amount if fixed and not recurring else None)
    db.session.add(adj)
    db.session.flush()
    return adj


# ------------------------------------------------------------------------------ snapshots
def lines_for(sub, service: Service | None, package: Package | None,
              tax_keys: dict[int, str]) -> list[SubscriptionLine]:
    """The rating snapshot(s) of one subscription row (a package priced by its parts gives
    one line per part, all sharing the subscription's billed-through date)."""
    override = (Money(sub.price_override_amount, sub.price_override_currency)
                if sub.price_override_amount is not None else None)
    suffix = f" - {sub.description}" if sub.description else ""

    def terms(price: Money, frequency: str, prorate: bool) -> SubscriptionTerms:
        return SubscriptionTerms(sub.id, sub.start_date, sub.end_date, sub.billed_through,
                                 price, sub.quantity, frequency, prorate)

    if service is not None:
        return [SubscriptionLine(terms(override or service.price, service.frequency,
                                       service.prorate), service.label + suffix,
                                 tax_keys.get(service.tax_class_id), "service")]
    if package.pricing == "package" or override is not None:
        price = override or Money(package.price_amount, package.currency)
        return [SubscriptionLine(terms(price, package.frequency, package.prorate),
                                 package.label + suffix, tax_keys.get(package.tax_class_id),
                                 "package")]
    return [SubscriptionLine(terms(Money(item.service.price_amount * item.quantity,
                                         package.currency), package.frequency,
                                   package.prorate),
                             f"{package.label}: {item.service.label}{suffix}",
                             tax_keys.get(item.service.tax_class_id), "package")
            for item in package.items]


def charge_terms(charge, tax_keys: dict[int, str]) -> OneTimeCharge:
    return OneTimeCharge(charge.id, charge.description,
                         Money(charge.unit_price_amount, charge.currency),
                         Decimal(charge.quantity), tax_keys.get(charge.tax_class_id),
                         charge.charge_date)


def adjustment_terms(adj) -> AdjustmentTerms:
    amount = Money(adj.amount, adj.currency) if adj.amount is not None else None
    remaining = Money(adj.remaining, adj.currency) if adj.remaining is not None else None
    return AdjustmentTerms(adj.id, adj.label, adj.mode, amount,
                           Decimal(adj.percent) if adj.percent is not None else None,
                           adj.recurring, adj.start_date, adj.end_date, adj.subscription_id,
                           remaining, adj.kind)


__all__ = ["add_adjustment", "add_charge", "adjustment_terms", "change_subscription",
           "charge_terms", "end_subscription", "lines_for", "subscribe"]
