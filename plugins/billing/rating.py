"""Money arithmetic for billing, with the ONE rounding rule every billing module uses.

The rule: **round half to even ("banker's rounding") to the currency's minor unit, once per
invoice line** — the line amount (unit price x quantity, or a prorated fraction of a price),
a percentage of it (discounts, late fees) and the tax on it are each rounded exactly once,
here. Invoice totals are plain sums of already-rounded line values, so they never round.
Half-even is what ``Money.multiply`` uses by default; it has no upward drift over millions of
lines (half-up would overcharge by ~0.25 minor units per rounded half on average).

No other billing module may round: ``tests/plugins/billing/test_billing_rounding_rule.py`` checks
that nothing outside this module calls ``quantize``/``round`` and that every function here
agrees with an exact ``Fraction`` reference.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache

from backhaul.sdk import CurrencyMismatch, Money

#: The rounding mode of every billing computation (see the module docstring).
ROUNDING = ROUND_HALF_EVEN


def round_fraction(value: Fraction) -> int:
    """Round an exact rational number of minor units to an integer, half to even."""
    return divide(value.numerator, value.denominator)


def divide(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half to even, in exact integer arithmetic."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        return quotient + 1
    return quotient


@lru_cache(maxsize=4096)
def _ratio(value: str | Decimal) -> tuple[int, int]:
    return Decimal(str(value)).as_integer_ratio()


def ratio(value: int | str | Decimal) -> tuple[int, int]:
    """``value`` as an exact ``(numerator, denominator)``; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("refusing a float: pass an int, str or Decimal")
    if isinstance(value, int):
        return value, 1
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    return _ratio(value)


def to_fraction(value: int | str | Decimal) -> Fraction:
    """An exact rational from an int, a Decimal or a decimal string (floats are refused)."""
    return Fraction(*ratio(value))


def extend(unit_price: Money, quantity: int | str | Decimal) -> Money:
    """``unit_price x quantity``, rounded once (a line amount)."""
    num, den = ratio(quantity)
    return Money(divide(unit_price.amount * num, den), unit_price.currency)


def scale(amount: Money, numerator: int, denominator: int) -> Money:
    """``amount x numerator / denominator``, rounded once (proration by days)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return Money(divide(amount.amount * numerator, denominator), amount.currency)


def percent_of(amount: Money, percent: int | str | Decimal) -> Money:
    """``percent`` % of ``amount`` (discounts, percentage late fees), rounded once."""
    num, den = ratio(percent)
    return Money(divide(amount.amount * num, den * 100), amount.currency)


def tax_on(amount: Money, rate_percent: int | str | Decimal) -> Money:
    """The tax on a line amount at ``rate_percent`` (e.g. ``"20"`` for 20 %), rounded once."""
    return percent_of(amount, rate_percent)


def total(amounts, currency: str) -> Money:
    """The sum of already-rounded amounts (never rounds); all must be in ``currency``."""
    minor = 0
    for amount in amounts:
        if amount.currency != currency:
            raise CurrencyMismatch(f"{amount.currency} and {currency} cannot be combined")
        minor += amount.amount
    return Money(minor, currency)


__all__ = ["ROUNDING", "divide", "extend", "percent_of", "ratio", "round_fraction", "scale",
           "tax_on", "to_fraction", "total"]
