"""Proration, and what one subscription owes for one billing period.

**Proration** is by days: the part ``piece`` of a service cycle ``cycle`` costs
``price x days(piece) / days(cycle)``, rounded once (half-even, :mod:`.rating`). A whole
cycle costs exactly ``price``; any piece costs between zero and ``price``.

**What a subscription owes** is computed from its *billed-through* date (the exclusive end
of the service time already invoiced), so a re-run, a crash or a late change never bills the
same day twice — Kill Bill's "bill only the difference":

* billing is in advance: the invoice for the period starting ``ps`` bills up to the end of
  the service cycle containing ``ps`` (clipped at the subscription's end date);
* a subscription starting mid-period is billed a prorated *stub* up to the next boundary;
* a subscription ended (or changed) before its billed-through date is credited the unused
  days ``[end, billed_through)`` on the next invoice.

Services with ``prorate`` off bill every started cycle in full and credit nothing when they
end early.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from backhaul.sdk import Money

from .cycles import Calendar, Period, months_of
from .rating import extend, scale


def prorate(price: Money, piece: Period, cycle: Period) -> Money:
    """The price of ``piece`` (inside ``cycle``) when ``cycle`` costs ``price``."""
    if piece.start < cycle.start or piece.end > cycle.end:
        raise ValueError(f"{piece} is not inside the cycle {cycle}")
    if piece == cycle:
        return price
    return scale(price, piece.days, cycle.days)


def split(span: Period, cycle_of: Callable[[date], Period]) -> list[tuple[Period, Period]]:
    """Cut ``span`` at cycle boundaries: ``[(piece, its cycle), ...]`` in date order."""
    pieces = []
    cursor = span.start
    while cursor < span.end:
        cycle = cycle_of(cursor)
        piece = Period(cursor, min(cycle.end, span.end))
        pieces.append((piece, cycle))
        cursor = piece.end
    return pieces


@dataclass(frozen=True)
class SubscriptionTerms:
    """What the rating needs to know about one subscription line (a snapshot, no ORM)."""

    id: int
    start: date
    end: date | None
    billed_through: date | None
    unit_price: Money
    quantity: int
    frequency: str = "monthly"
    prorate: bool = True


@dataclass(frozen=True)
class Charge:
    """A rated piece of a subscription: positive for service, negative for a credit."""

    subscription_id: int
    piece: Period
    cycle: Period
    amount: Money
    full_price: Money

    @property
    def is_credit(self) -> bool:
        return self.amount.amount < 0

    @property
    def is_partial(self) -> bool:
        return self.piece != self.cycle


def subscription_charges(terms: SubscriptionTerms, period: Period,
                         cal: Calendar) -> tuple[list[Charge], date | None]:
    """The charges of ``terms`` on the invoice for ``period``, and its new billed-through.

    Returns ``([], billed_through)`` when there is nothing to bill.
    """
    if terms.start >= period.end:
        return [], terms.billed_through  # starts in a later period: billed then
    months = months_of(terms.frequency)
    anchor = cal.first_boundary_on_or_after(terms.start)

    def cycle_of(day: date) -> Period:
        return cal.cycle_of(day, anchor, months)

    billed = terms.billed_through or terms.start
    price = extend(terms.unit_price, terms.quantity)
    target = cycle_of(period.start).end
    if terms.end is not None:
        target = min(target, terms.end)
    if billed < target:
        charges = [Charge(terms.id, piece, cycle,
                          prorate(price, piece, cycle) if terms.prorate else price, price)
                   for piece, cycle in split(Period(billed, target), cycle_of)]
        return charges, target
    if terms.end is not None and terms.end < billed:
        if not terms.prorate:
            return [], terms.end
        credits = [Charge(terms.id, piece, cycle, -prorate(price, piece, cycle), price)
                   for piece, cycle in split(Period(terms.end, billed), cycle_of)]
        return credits, terms.end
    return [], terms.billed_through


__all__ = ["Charge", "SubscriptionTerms", "prorate", "split", "subscription_charges"]
