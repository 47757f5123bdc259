"""The event types every plugin declared, and the variables every message has.

Collected once per app through the ``notification_event_types`` hook (each plugin isolated:
one that raises, or declares a key another already took, is logged and skipped) and kept in
``app.extensions``. The notifications plugin's own and the account kernel's event types are
declared here too, through the same hook (see ``__init__``).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app

from .api import EventType, Variable

log = logging.getLogger("backhaul.notifications")

CACHE_KEY = "backhaul.notifications.catalogue"

#: variables every message has, whatever its event (filled from the account and contact)
COMMON_VARIABLES = (
    Variable("account.number", "Account number", "A000123"),
    Variable("account.name", "Account name", "Jane Doe"),
    Variable("account.status", "Account status (its name)", "Active"),
    Variable("account.address", "Service address on one line", "12 Main St #4, Springfield"),
    Variable("contact.name", "The recipient's name", "Jane Doe"),
    Variable("contact.email", "The recipient's e-mail address", "jane@example.net"),
    Variable("contact.phone", "The recipient's phone number", "+15550100"),
    Variable("company.name", "Your company's name (plugin setting company_name)", "Backhaul ISP"),
    Variable("unsubscribe_url", "Link to opt out of this category (empty for essential "
                                "messages)", "https://isp.example.net/notifications/unsubscribe/x"),
)

_STATUS_VARS = (
    Variable("status.old", "The previous status (its name)", "Active"),
    Variable("status.new", "The new status (its name)", "Suspended"),
    Variable("status.reason", "Why it changed (manual, delinquency, scheduled...)", "manual"),
)

#: event types for the account kernel's events (announced by this plugin)
ACCOUNT_EVENT_TYPES = (
    EventType("accounts.created", "Account created (welcome)", category="service",
              description="A new account was opened."),
    EventType("accounts.status_changed", "Account status changed", category="service",
              variables=_STATUS_VARS,
              description="Any status change that is not a suspension or a restoration."),
    EventType("accounts.suspended", "Service suspended", category="service", essential=True,
              variables=_STATUS_VARS,
              description="The account moved to a delinquent status (service suspended)."),
    EventType("accounts.restored", "Service restored", category="service",
              variables=_STATUS_VARS,
              description="The account left a delinquent status for an active one."),
)

#: the notifications plugin's own event types
OWN_EVENT_TYPES = (
    EventType("notifications.security_notice", "Security notice", category="security",
              essential=True,
              variables=(Variable("notice.text", "What happened and what to do",
                                  "Your portal password was changed."),),
              description="Security-related messages to the primary contact (never opted out)."),
)


def collect(app: Flask) -> dict[str, tuple[str, EventType]]:
    """``{key: (plugin, event_type)}`` from every enabled plugin's hook implementation."""
    plugins = app.extensions["backhaul.plugins"]
    found: dict[str, tuple[str, EventType]] = {}
    for plugin, item in plugins.collect("notification_event_types"):
        if not isinstance(item, EventType):
            log.error("plugin '%s': notification_event_types returned %s, expected "
                      "EventType; ignored", plugin, type(item).__name__)
            continue
        if item.key in found:
            log.error("plugin '%s': event type '%s' is already declared by '%s'; ignored",
                      plugin, item.key, found[item.key][0])
            continue
        found[item.key] = (plugin, item)
    return found


def event_types(app: Flask | None = None) -> dict[str, EventType]:
    app = app or current_app
    cached = app.extensions.get(CACHE_KEY)
    if cached is None:
        cached = app.extensions[CACHE_KEY] = collect(app)
    return {key: et for key, (_, et) in sorted(cached.items())}


def get(key: str) -> EventType:
    types = event_types()
    if key not in types:
        raise LookupError(f"unknown notification event type '{key}': declare it with the "
                          "notification_event_types hook (known: "
                          f"{', '.join(types) or 'none'})")
    return types[key]


def variables_of(event: EventType | None) -> tuple[Variable, ...]:
    """The full catalogue of a template for ``event`` (common variables first)."""
    return COMMON_VARIABLES + (event.variables if event else ())
