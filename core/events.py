"""Domain events: recorded inside a transaction, delivered to hook implementations after commit.

``emit("account_status_changed", account_id=..., ...)`` inside the transaction that made the
change; nothing happens if that transaction rolls back. After the commit every enabled
plugin's implementation is called, each isolated: an exception is logged with the plugin's name
and the others still run. Subscribers that touch the outside world enqueue a job.
"""
from __future__ import annotations

import logging

from flask import current_app

from .db import after_commit, db

log = logging.getLogger("backhaul.events")


def emit(event: str, **payload) -> None:
    """Deliver ``event`` to every subscriber once the current transaction commits."""
    app = current_app._get_current_object()
    plugins = app.extensions["backhaul.plugins"]
    if not plugins.has_hook(event):
        raise ValueError(f"unknown event '{event}': declare it with a @hookspec first")
    after_commit(lambda: dispatch(app, event, payload), db.session())


def dispatch(app, event: str, payload: dict) -> None:
    """Call every subscriber now (after commit), each in its own transaction.

    What a subscriber writes (typically a job intent) is committed when it returns; if it
    raises, its writes are rolled back, the failure is logged with its name, and the next
    subscriber runs.
    """
    plugins = app.extensions["backhaul.plugins"]
    for plugin in list(plugins.order):
        def report(name: str, exc: BaseException) -> None:
            db.session.rollback()
            log.error("event %s: subscriber '%s' failed: %s: %s", event, name,
                      type(exc).__name__, exc)

        answered = plugins.call(event, plugins=[plugin], on_error=report, app=app, **payload)
        if answered:
            try:
                db.session.commit()
            except Exception as exc:
                report(plugin, exc)
