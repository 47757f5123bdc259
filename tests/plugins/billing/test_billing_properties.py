"""Property tests of billing's pure domain: calendar, proration, allocation, rounding."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from backhaul.plugins.billing.allocation import OpenItem, allocate, order_items
from backhaul.plugins.billing.cycles import Calendar, Period, add_months
from backhaul.plugins.billing.proration import (
    SubscriptionTerms,
    prorate,
    split,
    subscription_charges,
)
from backhaul.plugins.billing.rating import (
    extend,
    percent_of,
    round_fraction,
    scale,
    tax_on,
)
from backhaul.sdk import Money

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
amounts = st.integers(min_value=0, max_value=10**12)
billing_days = st.integers(min_value=1, max_value=31)


def reference_half_even(value: Fraction) -> int:
    """Half-even rounding by Decimal on an exact value (independent of rating.round_fraction)."""
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_EVEN)) if abs(value) < 10**20 else round(value)


# ------------------------------------------------------------------------------ rounding
@given(st.integers(-10**15, 10**15), st.integers(1, 10**6))
def test_round_fraction_is_half_even(numerator, denominator):
    value = Fraction(numerator, denominator)
    assert round_fraction(value) == round(value)  # Python's round() on Fraction is half-even


@given(st.integers(-10**12, 10**12), st.decimals(min_value=-1000, max_value=1000, places=4,
                                                 allow_nan=False, allow_infinity=False))
def test_extend_agrees_with_money_multiply(amount, quantity):
    price = Money(amount, "USD")
    assert extend(price, quantity) == price.multiply(quantity, ROUND_HALF_EVEN)


@given(amounts, st.decimals(min_value=0, max_value=100, places=3, allow_nan=False,
                            allow_infinity=False))
def test_percent_and_tax_round_once_half_even(amount, pct):
    money = Money(amount, "EUR")
    exact = Fraction(amount) * Fraction(pct) / 100
    assert percent_of(money, pct).amount == round(exact)
    assert tax_on(money, pct) == percent_of(money, pct)


def test_half_cent_ties_go_to_even():
    assert extend(Money(5, "USD"), "0.5").amount == 2   # 2.5 -> 2
    assert extend(Money(7, "USD"), "0.5").amount == 4   # 3.5 -> 4
    assert scale(Money(1, "USD"), 1, 2).amount == 0     # 0.5 -> 0
    assert percent_of(Money(250, "USD"), 1).amount == 2  # 2.5 -> 2


# ------------------------------------------------------------------------------ calendar
@given(dates, billing_days)
def test_period_containing_contains_the_day_and_periods_chain(day, billing_day):
    cal = Calendar(billing_day)
    period = cal.period_containing(day)
    assert day in period
    assert 28 <= period.days <= 31
    nxt = cal.period_containing(period.end)
    assert nxt.start == period.end


@given(dates, st.integers(-240, 240))
def test_add_months_clamps_to_month_end(day, months):
    moved = add_months(day, months)
    assert moved.day == day.day or moved.day < day.day and (moved + timedelta(days=1)).day == 1


# ------------------------------------------------------------------------------ proration
@st.composite
def cycle_and_piece(draw):
    start = draw(dates)
    cycle = Period(start, start + timedelta(days=draw(st.integers(1, 400))))
    a = draw(st.integers(0, cycle.days))
    b = draw(st.integers(a, cycle.days))
    return cycle, Period(start + timedelta(days=a), start + timedelta(days=b))


@given(amounts, cycle_and_piece())
def test_proration_of_any_period_is_between_zero_and_full_price(amount, cp):
    cycle, piece = cp
    price = Money(amount, "USD")
    part = prorate(price, piece, cycle)
    assert 0 <= part.amount <= amount
    if piece == cycle:
        assert part == price
    if piece.days == 0:
        assert part.amount == 0


@given(amounts, dates, st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_prorated_pieces_of_a_cycle_add_up_within_rounding(amount, start, lengths):
    cycle = Period(start, start + timedelta(days=sum(lengths)))
    pieces, cursor = [], start
    for length in lengths:
        pieces.append(Period(cursor, cursor + timedelta(days=length)))
        cursor += timedelta(days=length)
    price = Money(amount, "USD")
    parts = sum(prorate(price, p, cycle).amount for p in pieces)
    assert abs(parts - amount) <= len(pieces) // 2 + (len(pieces) > 1)


@given(dates, st.integers(1, 900), billing_days, st.sampled_from([1, 3, 12]))
def test_split_covers_the_span_exactly(start, length, billing_day, months):
    cal = Calendar(billing_day)
    span = Period(start, start + timedelta(days=length))
    anchor = cal.first_boundary_on_or_after(start)
    pieces = split(span, lambda d: cal.cycle_of(d, anchor, months))
    assert pieces[0][0].start == span.start and pieces[-1][0].end == span.end
    for (a, ca), (b, _) in zip(pieces, pieces[1:], strict=False):
        assert a.end == b.start and a.start >= ca.start and a.end <= ca.end


@settings(max_examples=60)
@given(dates, st.one_of(st.none(), st.integers(1, 800)), billing_days,
       st.sampled_from(["monthly", "quarterly", "yearly"]), st.integers(0, 100_000),
       st.integers(1, 5), st.booleans(), st.integers(2, 30))
def test_billing_every_period_bills_each_day_once(start, length, billing_day, frequency,
                                                  price, quantity, prorated, periods):
    """Run the rating over consecutive periods: days billed == days of service, no overlap."""
    cal = Calendar(billing_day)
    end = start + timedelta(days=length) if length else None
    terms = SubscriptionTerms(1, start, end, None, Money(price, "USD"), quantity, frequency,
                              prorated)
    index = cal.index_of(start) - 1
    billed_days, net = [], 0
    for _ in range(periods):
        index += 1
        charges, billed = subscription_charges(terms, cal.period(index), cal)
        for charge in charges:
            assert 0 <= abs(charge.amount.amount) <= price * quantity
            billed_days.append((charge.piece, charge.is_credit))
            net += charge.amount.amount
        terms = SubscriptionTerms(1, start, end, billed, terms.unit_price, quantity, frequency,
                                  prorated)
    charged = [p for p, credit in billed_days if not credit]
    for a, b in zip(charged, charged[1:], strict=False):
        assert a.end == b.start  # contiguous, never the same day twice
    if charged:
        assert charged[0].start == start
        if end is not None and end <= cal.start_of(index):
            assert charged[-1].end == end
    assert net >= 0


def test_stub_then_full_months():
    cal = Calendar(1)
    terms = SubscriptionTerms(7, date(2026, 3, 10), None, None, Money(3100, "USD"), 1)
    charges, billed = subscription_charges(terms, cal.period_containing(date(2026, 3, 1)), cal)
    assert [c.amount.amount for c in charges] == [2200]  # 22 of 31 days
    assert billed == date(2026, 4, 1)
    terms = SubscriptionTerms(7, date(2026, 3, 10), None, billed, Money(3100, "USD"), 1)
    charges, billed = subscription_charges(terms, cal.period(cal.index_of(date(2026, 4, 1))),
                                           cal)
    assert [c.amount.amount for c in charges] == [3100] and billed == date(2026, 5, 1)
    # ended on 16 Apr after being billed through 1 May: 15 of 30 days credited next time
    ended = SubscriptionTerms(7, date(2026, 3, 10), date(2026, 4, 16), billed,
                              Money(3100, "USD"), 1)
    charges, billed = subscription_charges(ended, cal.period_containing(date(2026, 5, 1)), cal)
    assert [c.amount.amount for c in charges] == [-1550] and billed == date(2026, 4, 16)


def test_quarterly_service_is_billed_once_per_quarter():
    cal = Calendar(1)
    terms = SubscriptionTerms(1, date(2026, 1, 1), None, None, Money(9000, "USD"), 1,
                              "quarterly")
    amounts_by_month = []
    for month in range(1, 8):
        charges, billed = subscription_charges(terms, cal.period_containing(
            date(2026, month, 1)), cal)
        amounts_by_month.append(sum(c.amount.amount for c in charges))
        terms = SubscriptionTerms(1, terms.start, None, billed, terms.unit_price, 1,
                                  "quarterly")
    assert amounts_by_month == [9000, 0, 0, 9000, 0, 0, 9000]


# ------------------------------------------------------------------------------ allocation
@st.composite
def open_items(draw):
    n = draw(st.integers(0, 12))
    base = date(2026, 1, 1)
    return [OpenItem(i, draw(st.integers(1, 100_000)),
                     base + timedelta(days=draw(st.integers(0, 90))),
                     base + timedelta(days=draw(st.integers(0, 90)))) for i in range(n)]


@given(st.integers(0, 1_000_000), open_items(), st.sampled_from(["oldest_first",
                                                                  "newest_first"]))
def test_allocations_sum_to_the_payment(amount, items, order):
    allocations, leftover = allocate(amount, items, order)
    assert sum(a for _, a in allocations) + leftover == amount
    assert leftover >= 0
    due = {item.key: item.due for item in items}
    assert all(0 < part <= due[key] for key, part in allocations)
    assert leftover == 0 or sum(due.values()) == sum(a for _, a in allocations)
    # policy order: every item before the last one touched is fully paid
    ordered = [item.key for item in order_items(items, order)]
    paid = dict(allocations)
    if allocations:
        last = ordered.index(allocations[-1][0])
        assert all(paid.get(k) == due[k] for k in ordered[:last])


@given(st.integers(0, 1_000_000), open_items())
def test_targeted_invoice_is_paid_first(amount, items):
    if not items:
        return
    target = items[-1].key
    allocations, _ = allocate(amount, items, "oldest_first", first=target)
    if amount:
        assert allocations[0][0] == target
