"""Hooks the RADIUS plugin publishes. Implement with ``@hookimpl(optionalhook=True)``."""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def radius_usage(usages):
    """Accounting updates added bytes to sessions (RADIUS's own or FreeRADIUS's radacct).

    Called inside the transaction that recorded them: write rows or enqueue jobs only. The
    usage plugin rolls them up per service and hour.

    :param usages: a list of ``backhaul.plugins.radius.accounting.Usage`` (subscription id,
        session id, time, input octets from the subscriber, output octets to it, source).
    """
