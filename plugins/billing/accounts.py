"""Per-account billing settings (the ``billing_account`` row) and balances.

The row is created with the system defaults when an account gets its first subscription or
charge; staff override single fields later (``None`` = follow the system default).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backhaul.sdk import Money, db

from . import settings as billing_settings
from .cycles import Calendar
from .errors import invalid
from .models import BillingAccount, Transaction

OVERRIDABLE = ("due_days", "grace_days", "autopay", "delivery", "tax_exempt",
               "delinquency_excluded", "billing_day")


def get(account_id: int) -> BillingAccount | None:
    return db.session.get(BillingAccount, account_id)


def ensure(account_id: int, start: date | None = None,
           defaults: billing_settings.Defaults | None = None) -> BillingAccount:
    """The account's billing row, created from the defaults when missing.

    With ``billing_day = "anniversary"`` the day comes from ``start`` (the first
    subscription's start date).
    """
    row = db.session.get(BillingAccount, account_id)
    if row is not None:
        return row
    from backhaul.sdk.accounts import get_account

    if get_account(account_id) is None:
        raise invalid("account_id", f"there is no account with id {account_id}")
    defaults = defaults or billing_settings.load()
    start = start or date.today()
    day = start.day if defaults.billing_day == "anniversary" else int(defaults.billing_day)
    row = BillingAccount(account_id=account_id, currency=defaults.currency, billing_day=day)
    db.session.add(row)
    db.session.flush()
    return row


def schedule_from(row: BillingAccount, start: date) -> None:
    """Make sure the period containing ``start`` will be invoiced (first subscription)."""
    if row.next_period_start is None:
        row.next_period_start = Calendar(row.billing_day).period_containing(start).start


def update(account_id: int, **changes) -> BillingAccount:
    """Override settings for one account; unknown keys and bad values raise."""
    row = ensure(account_id)
    for key, value in changes.items():
        if key not in OVERRIDABLE:
            raise invalid(key, f"not an account billing setting; use one of "
                               f"{', '.join(OVERRIDABLE)}")
        if key in ("due_days", "grace_days") and value is not None and not (
                isinstance(value, int) and 0 <= value <= 365):
            raise invalid(key, "must be a number of days between 0 and 365")
        if key == "delivery" and value not in (None, "email", "printed"):
            raise invalid(key, "must be 'email' or 'printed'")
        if key == "billing_day":
            if not (isinstance(value, int) and 1 <= value <= 31):
                raise invalid(key, "must be a day of the month, 1-31")
            if row.next_period_start is not None and value != row.billing_day:
                row.next_period_start = Calendar(value).period_containing(
                    row.next_period_start).start
        setattr(row, key, value)
    db.session.flush()
    return row


def balance(account_id: int, currency: str | None = None) -> Money:
    """The account's balance: the sum of its ledger (positive: it owes us)."""
    if currency is None:
        row = get(account_id)
        currency = row.currency if row else billing_settings.load().currency
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Transaction.amount), 0))
                              .where(Transaction.account_id == account_id,
                                     Transaction.currency == currency))
    return Money(int(total), currency)


__all__ = ["balance", "ensure", "get", "schedule_from", "update"]
