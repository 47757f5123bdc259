"""Money: integer minor units, explicit rounding, exact allocation, no floats anywhere."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backhaul.sdk import CurrencyMismatch, Money

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP"])
AMOUNTS = st.integers(min_value=-10**15, max_value=10**15)
MONEY = st.builds(Money, AMOUNTS, CURRENCIES)
RATIOS = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
    lambda r: sum(r) > 0)


# ----------------------------------------------------------------------------- properties
@given(MONEY, RATIOS)
def test_allocate_sums_exactly(money, ratios):
    parts = money.allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum(p.amount for p in parts) == money.amount
    assert {p.currency for p in parts} == {money.currency}


@given(MONEY, RATIOS)
def test_allocate_parts_are_within_one_minor_unit_of_their_share(money, ratios):
    total = sum(ratios)
    for part, ratio in zip(money.allocate(ratios), ratios, strict=True):
        exact = Fraction(money.amount * ratio, total)
        assert abs(part.amount - exact) < 1
        if ratio == 0:
            assert part.amount == 0


@given(MONEY, RATIOS)
def test_allocate_of_a_negative_amount_mirrors_the_positive(money, ratios):
    assert [-p for p in (-money).allocate(ratios)] == money.allocate(ratios)


@given(MONEY)
def test_format_and_parse_round_trip(money):
    assert Money.parse(money.format(), money.currency) == money
    assert Money.parse(str(money.to_decimal()), money.currency) == money
    assert Money.parse(money.to_decimal(), money.currency) == money


@given(MONEY, MONEY)
def test_addition_is_exact_and_subtraction_undoes_it(a, b):
    b = Money(b.amount, a.currency)
    assert (a + b).amount == a.amount + b.amount
    assert (a + b) - b == a


@given(st.floats(allow_nan=True, allow_infinity=True), CURRENCIES)
def test_no_float_is_ever_accepted(value, currency):
    with pytest.raises(TypeError):
        Money(value, currency)
    with pytest.raises(TypeError):
        Money.parse(value, currency)
    with pytest.raises(TypeError):
        Money(100, currency).multiply(value)


# ----------------------------------------------------------------------------- examples
def test_allocate_gives_leftovers_to_the_largest_remainders():
    usd = Money(100, "USD")
    assert [p.amount for p in usd.allocate([1, 2])] == [33, 67]
    assert [p.amount for p in usd.allocate([1, 1, 1])] == [34, 33, 33]
    assert [p.amount for p in Money(5, "USD").allocate([0, 1, 0, 1])] == [0, 3, 0, 2]


@pytest.mark.parametrize("ratios, error", [([], TypeError), ([0, 0], ValueError),
                                           ([1, -1], ValueError), ([0.5, 0.5], TypeError),
                                           ([True], TypeError)])
def test_allocate_refuses_bad_ratios(ratios, error):
    with pytest.raises(error):
        Money(100, "USD").allocate(ratios)


@pytest.mark.parametrize("text, currency, minor", [
    ("12.34", "USD", 1234), ("-5", "USD", -500), ("+0.10", "EUR", 10), ("1,234.50 USD", "USD",
                                                                         123450),
    ("1,234", "JPY", 1234), ("1.234", "KWD", 1234), ("12.340", "USD", 1234),
    (" 7.5 ", "USD", 750), (3, "USD", 300), (Decimal("2.25"), "USD", 225),
])
def test_parse(text, currency, minor):
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize("text, currency, error", [
    ("12.345", "USD", "more than 2 decimal places"), ("1.5", "JPY", "more than 0"),
    ("1,50", "USD", "not an amount"), ("12,34.00", "USD", "not an amount"),
    ("abc", "USD", "not an amount"), ("NaN", "USD", "not an amount"),
    ("Infinity", "USD", "not an amount"), ("1_000", "USD", "not an amount"),
    ("", "USD", "not an amount"),
])
def test_parse_refuses(text, currency, error):
    with pytest.raises(ValueError, match=error):
        Money.parse(text, currency)


def test_parse_checks_the_currency_code():
    with pytest.raises(CurrencyMismatch):
        Money.parse("12.00 EUR", "USD")
    with pytest.raises(ValueError, match="3-letter ISO 4217"):
        Money.parse("12", "usd")


def test_construction_rejects_non_integers_and_bad_codes():
    for amount in (1.0, Decimal("1"), "1", True):
        with pytest.raises(TypeError):
            Money(amount, "USD")
    for code in ("usd", "US", "USDT", "U1D", 840):
        with pytest.raises(ValueError):
            Money(1, code)


def test_currencies_never_mix():
    usd, eur = Money(1, "USD"), Money(1, "EUR")
    for op in (lambda: usd + eur, lambda: usd - eur, lambda: usd < eur, lambda: usd >= eur):
        with pytest.raises(CurrencyMismatch):
            op()
    with pytest.raises(TypeError):
        usd + 1
    assert usd != eur


def test_multiply_rounds_explicitly():
    assert Money(1005, "USD").multiply("0.5") == Money(502, "USD")  # half to even
    assert Money(1005, "USD").multiply("0.5", rounding=ROUND_HALF_UP) == Money(503, "USD")
    assert Money(333, "USD").multiply(3) == Money(999, "USD")


def test_format():
    assert Money(123456789, "USD").format() == "1,234,567.89 USD"
    assert str(Money(-5, "EUR")) == "-0.05 EUR"
    assert Money(1500, "JPY").format() == "1,500 JPY"
    assert Money(1, "KWD").format() == "0.001 KWD"
    assert not Money.zero("USD") and Money(1, "USD")
