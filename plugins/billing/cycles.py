"""The billing calendar: an account's monthly billing periods and a service's longer cycles.

An account is billed monthly, in advance, on its *billing day* (1-31; a day the month does
not have means its last day, so day 31 bills on 28/29 Feb and 30 Apr). Periods are half-open
``[start, end)`` date ranges: the period starting 2026-03-15 ends (exclusively) 2026-04-15.

Periods are numbered by *month index* (``year * 12 + month - 1`` of their start), which makes
"the period containing a date" and "the quarterly cycle containing a period" integer
arithmetic instead of date loops. A service billed every ``F`` months (quarterly: 3, yearly:
12) has cycles of ``F`` consecutive account periods, anchored at the first account period
boundary on or after the subscription's start; the partial stretch before that boundary is
the subscription's *stub*.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

#: Billing frequencies and their length in months.
FREQUENCIES: dict[str, int] = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True, order=True)
class Period:
    """A half-open date range ``[start, end)``."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The inclusive last day, for people (``1 Mar - 31 Mar``)."""
        return self.end - timedelta(days=1)

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end

    def intersect(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start < end else None

    def label(self) -> str:
        return _label(self.start, self.end)


def months_of(frequency: str) -> int:
    try:
        return FREQUENCIES[frequency]
    except KeyError:
        raise ValueError(f"unknown billing frequency '{frequency}': use one of "
                         f"{', '.join(FREQUENCIES)}") from None


@lru_cache(maxsize=8192)
def _label(start: date, end: date) -> str:
    return f"{start:%d %b %Y} - {end - timedelta(days=1):%d %b %Y}"


@lru_cache(maxsize=16384)
def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_months(day: date, months: int, billing_day: int | None = None) -> date:
    """``day`` moved by ``months``, on ``billing_day`` (default ``day.day``), clamped."""
    index = day.year * 12 + day.month - 1 + months
    return _on_day(index // 12, index % 12 + 1, billing_day or day.day)


@dataclass(frozen=True)
class Calendar:
    """The monthly periods of an account billed on ``billing_day``."""

    billing_day: int

    def __post_init__(self):
        if not 1 <= self.billing_day <= 31:
            raise ValueError(f"billing day must be 1-31, got {self.billing_day}")

    def start_of(self, index: int) -> date:
        return _on_day(index // 12, index % 12 + 1, self.billing_day)

    def index_of(self, day: date) -> int:
        """The index of the period containing ``day``."""
        return _index_of(self.billing_day, day)

    def period(self, index: int) -> Period:
        return Period(self.start_of(index), self.start_of(index + 1))

    def period_containing(self, day: date) -> Period:
        return self.period(self.index_of(day))

    def first_boundary_on_or_after(self, day: date) -> int:
        index = self.index_of(day)
        return index if self.start_of(index) == day else index + 1

    def cycle_of(self, day: date, anchor: int, months: int) -> Period:
        """The ``months``-long service cycle (anchored at period ``anchor``) containing ``day``."""
        return _cycle_of(self.billing_day, day, anchor, months)


@lru_cache(maxsize=65536)
def _index_of(billing_day: int, day: date) -> int:
    index = day.year * 12 + day.month - 1
    start = _on_day(index // 12, index % 12 + 1, billing_day)
    return index if start <= day else index - 1


@lru_cache(maxsize=65536)
def _cycle_of(billing_day: int, day: date, anchor: int, months: int) -> Period:
    index = _index_of(billing_day, day)
    first = anchor + months * ((index - anchor) // months)
    return Period(_on_day(first // 12, first % 12 + 1, billing_day),
                  _on_day((first + months) // 12, (first + months) % 12 + 1, billing_day))


__all__ = ["FREQUENCIES", "Calendar", "Period", "add_months", "months_of"]
