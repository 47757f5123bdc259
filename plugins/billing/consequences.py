"""The consequences of money writes, registered with :mod:`.followups` (see there).

* a balance changed (payment, reversal, refund, void, credit note) -> delinquency is
  re-evaluated (a paying account is restored at once; a reversed payment is judged again);
* invoices were issued -> auto-pay attempts and delivery are scheduled as jobs.
"""
from __future__ import annotations

from . import followups


def _reevaluate(account_id: int) -> None:
    from .delinquency import reevaluate

    reevaluate(account_id)


def _schedule(invoice_ids: list[int], key: str, accounts: dict[int, int] | None) -> None:
    from .autopay import schedule_for_invoices
    from .delivery import schedule_delivery

    schedule_for_invoices(invoice_ids, key=f"autopay:{key}", accounts=accounts)
    schedule_delivery(invoice_ids, key=f"deliver:{key}")


def register() -> None:
    followups.on_balance_changed(_reevaluate)
    followups.on_invoices_issued(_schedule)
