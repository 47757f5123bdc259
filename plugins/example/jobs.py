"""Background work. Job functions are module-level (a worker imports them by name), take ids
rather than objects, never commit themselves (their writes commit with the job's "done"
mark) and are idempotent: a job may be delivered more than once.
"""
from __future__ import annotations

import logging

from backhaul.sdk import OutboundMessage, current_plugin_settings, db, registered

from . import greetings
from .models import Greeting

log = logging.getLogger("backhaul.plugins.example")


def deliver_greeting(greeting_id: int) -> None:
    """Send a greeting through the example notification channel, once."""
    greeting = db.session.get(Greeting, greeting_id)
    if greeting is None or greeting.delivered:
        return  # deleted meanwhile, or a second delivery of this job
    channel = registered("notification_channels")["example.log"]
    message = OutboundMessage(to=(greeting.name,), subject="A greeting",
                              body_text=greeting.message,
                              idempotency_key=f"example.greeting:{greeting.id}")
    result = channel.send(message, channel.validate_settings({}))
    if not result.ok:
        raise RuntimeError(f"greeting {greeting_id} not delivered: {result.message}")
    greeting.delivered = True


def tidy() -> None:
    """Periodic: remove old greetings (see the ``keep_days`` setting)."""
    removed = greetings.tidy(current_plugin_settings("example")["keep_days"])
    if removed:
        log.info("removed %s old greeting(s)", removed)
