"""What follows a money write — a leaf module, so that money modules never import their
consequences (issue 9, "billing untangled").

The ledger, invoices and the run record *what happened* (a payment, a void, a credit note,
issued invoices) and then announce it here. *What follows* — delinquency re-evaluation, the
auto-pay and delivery jobs — lives in :mod:`.consequences`, which registers itself when the
plugin is imported. The import graph is then one-way: ``consequences`` -> ``delinquency`` ->
``fees`` -> ``invoices`` -> ``ledger`` -> ``followups``, with no way back
(``tests/plugins/billing/test_billing_imports.py`` keeps it so).

The transaction boundary is deliberate and single: consequences run in the caller's
transaction, right after the write, so that a delinquency restore and the payment that
caused it commit together or not at all; anything that leaves the process (a charge, an
e-mail) is only a job intent, dispatched after commit.
"""
from __future__ import annotations

from collections.abc import Callable

_balance_listeners: list[Callable[[int], None]] = []
_issue_listeners: list[Callable[..., None]] = []


def on_balance_changed(listener: Callable[[int], None]) -> None:
    if listener not in _balance_listeners:
        _balance_listeners.append(listener)


def on_invoices_issued(listener: Callable[..., None]) -> None:
    if listener not in _issue_listeners:
        _issue_listeners.append(listener)


def balance_changed(account_id: int) -> None:
    """A payment, reversal, refund, void or credit note changed what ``account_id`` owes."""
    for listener in _balance_listeners:
        listener(account_id)


def invoices_issued(invoice_ids: list[int], key: str,
                    accounts: dict[int, int] | None = None) -> None:
    """Invoices were finalized (one, or a run's chunk); ``key`` makes the jobs idempotent."""
    for listener in _issue_listeners:
        listener(invoice_ids, key, accounts)
