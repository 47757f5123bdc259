"""Hook specifications the billing plugin publishes for other plugins.

A plugin that adds lines to invoices (the usage plugin: data and voice usage) declares
``depends_on=("billing",)`` and implements :func:`invoice_lines`. It returns
:class:`ContributedLine` objects (``from backhaul.plugins.billing.api import
ContributedLine, Period``: the published API, the only billing module besides this one a
dependent may import) or plain dicts with the same keys.
"""
from __future__ import annotations

from backhaul.sdk import hookspec

from .compose import ExtraLine as ContributedLine
from .cycles import Period


@hookspec
def invoice_lines(account, period):
    """Contribute lines to ``account``'s invoice for ``period``.

    Called by the billing run (and its preview, and "bill now") once per account and period,
    inside the run's transaction: do not commit, and do not write anything that must not be
    repeated — the preview calls this too. An exception fails *this account* for this run (the
    invoice waits, the account is reported on the run page); the other accounts are billed.

    Show free and billable usage as separate lines: a free allowance is a line with
    ``unit_price`` zero (``"Data included in plan: 200 GB"``), the billable excess another
    line (``"Data over allowance: 12.5 GB at 1.00"``). Quantities may be fractional (a
    ``Decimal``); the amount is rounded once, half-even, by billing.

    :param account: the ``Account`` being billed.
    :param period: a :class:`~backhaul.plugins.billing.api.Period` (``start``, ``end``
        exclusive dates) — bill usage from ``[period.start - 1 period, period.start)``, the
        previous period, since service is billed in advance and usage in arrears.
    :returns: a list of :class:`ContributedLine` (or dicts: ``description``, ``unit_price``
        (Money), ``quantity``, optional ``amount``, ``tax_class`` (key), ``kind``
        (default ``"usage"``), ``period``); ``[]`` or ``None`` for nothing.
    """


__all__ = ["ContributedLine", "Period", "invoice_lines"]
