"""Applying money (a payment, a credit note, left-over credit) to open invoices. Pure.

The policy is configurable per installation (setting ``allocation_order``):

* ``oldest_first`` (default): by due date, then issue date, then invoice id — the invoice
  closest to making the account delinquent is paid first;
* ``newest_first``: the opposite, for operators who keep old disputes open.

A payment aimed at a specific invoice goes to that invoice first; what is left follows the
policy. Whatever no invoice needs stays on the account as credit (overpayment).
Invariant (property-tested): ``sum(allocations) + leftover == amount``, no invoice receives
more than it is due, and nothing is allocated while an earlier invoice (in policy order)
still has an amount due.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date

ORDERS = ("oldest_first", "newest_first")


@dataclass(frozen=True)
class OpenItem:
    """An invoice with an amount due (minor units, > 0)."""

    key: Hashable
    due: int
    due_date: date
    issue_date: date

    def sort_key(self):
        return (self.due_date, self.issue_date, self.key)


def order_items(items: Sequence[OpenItem], order: str = "oldest_first",
                first: Hashable | None = None) -> list[OpenItem]:
    """``items`` in the order money is applied to them; ``first`` (an item key) leads."""
    if order not in ORDERS:
        raise ValueError(f"allocation order '{order}' is not one of {', '.join(ORDERS)}")
    ordered = sorted(items, key=OpenItem.sort_key, reverse=order == "newest_first")
    if first is not None:
        ordered.sort(key=lambda item: item.key != first)  # stable: keeps the policy order
    return ordered


def allocate(amount: int, items: Sequence[OpenItem], order: str = "oldest_first",
             first: Hashable | None = None) -> tuple[list[tuple[Hashable, int]], int]:
    """Split ``amount`` (minor units, >= 0) over ``items``.

    :returns: ``([(item key, allocated), ...], leftover)`` with only non-zero allocations.
    """
    if amount < 0:
        raise ValueError("cannot allocate a negative amount")
    remaining = amount
    allocations = []
    for item in order_items(items, order, first):
        if remaining == 0:
            break
        if item.due <= 0:
            continue
        part = min(item.due, remaining)
        allocations.append((item.key, part))
        remaining -= part
    return allocations, remaining


__all__ = ["ORDERS", "OpenItem", "allocate", "order_items"]
