"""The usage plugin's published API, for plugins declaring ``depends_on`` or
``optional_depends_on=("usage",)`` (the customer portal's usage panel).

Plain frozen dataclasses; read only; nothing commits. Changed only by adding.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ServiceUsage:
    """One data service's counted usage in the calendar month (UTC) containing ``on``."""

    subscription_id: int
    service_name: str
    period_start: date
    #: bytes to the subscriber
    bytes_down: int
    #: bytes from the subscriber
    bytes_up: int
    #: the month's allowance in bytes (plan plus top-ups); ``None``: not capped
    allowance_bytes: int | None
    #: used / allowance in percent (two decimals); ``None``: not capped
    percent: float | None

    @property
    def total_bytes(self) -> int:
        return self.bytes_down + self.bytes_up


def account_usage(account_id: int, on: date | None = None) -> list[ServiceUsage]:
    """The account's data services with their counted usage this month (the counted
    source only, so bytes are never counted twice), against their allowance."""
    from .graphql import summary

    return [ServiceUsage(s["subscriptionId"], s["serviceName"], s["periodStart"],
                         s["bytesDown"], s["bytesUp"], s["allowanceBytes"], s["percent"])
            for s in summary(account_id, on)]


__all__ = ["ServiceUsage", "account_usage"]
