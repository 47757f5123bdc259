"""Value types that contribution hooks return.

Each is a frozen dataclass so the core can validate, de-duplicate and record which plugin
registered what. Plugins build them; they never touch the core's registries directly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Permission:
    """A permission a role can grant. Names are namespaced: ``<plugin>.<object>.<verb>``."""

    name: str
    description: str


@dataclass(frozen=True)
class MenuItem:
    """An entry in the staff navigation, shown only to users holding ``permission``."""

    label: str
    endpoint: str
    permission: str | None = None
    section: str = "Main"
    order: int = 100
    icon: str = ""


@dataclass(frozen=True)
class AccountPanel:
    """A panel on the account dashboard.

    ``render(account) -> str`` returns trusted HTML (render a template of your own). It is only
    called for users holding ``permission``; a panel that raises is replaced by an error notice.
    """

    key: str
    title: str
    render: Callable[[Any], str]
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class GraphQLContribution:
    """A plugin's part of the GraphQL schema: SDL (``extend type Query`` ...) and bindables."""

    sdl: str
    bindables: tuple[Any, ...] = ()


@dataclass(frozen=True)
class PeriodicJob:
    """A job the scheduler enqueues every ``every``.

    ``func`` must be importable by dotted path (a module-level function); it receives no
    arguments and must be idempotent: a slot is enqueued once, but a job may run twice.
    """

    name: str
    func: Callable[[], Any]
    every: timedelta
    queue: str = "default"


@dataclass(frozen=True)
class SearchResult:
    """One hit for the global search box."""

    title: str
    url: str
    kind: str
    subtitle: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class ScheduledActionType:
    """A kind of future-dated action on an account (change status, move-out, price change...).

    ``schema`` is a marshmallow Schema class validating the parameters when the event is
    scheduled; ``execute(event, params)`` runs in a job inside a transaction when it is due and
    must be idempotent. Raising marks the attempt failed; it is retried and shown to staff.
    """

    key: str
    label: str
    schema: Any
    execute: Callable[[Any, dict], Any]
    targets: tuple[str, ...] = ("account",)


@dataclass(frozen=True)
class TimelineEntry:
    """An item on an account's timeline (an invoice, a ticket, a job...).

    ``permission`` is what a principal needs to see it (``"billing.invoice.view"`` for an
    invoice): the timeline sits on the account page, which people without your plugin's
    permissions may read. A plugin's entry without one is not shown (fail closed).
    """

    at: datetime
    kind: str
    title: str
    body: str = ""
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    permission: str | None = None
