"""Domain events: recorded inside a transaction, delivered to hook implementations after commit.

``emit("account_status_changed", account_id=..., ...)`` inside the transaction that made the
change; nothing happens if that transaction (or the savepoint it was emitted in) rolls back.
After the commit every enabled plugin's implementation is called, each isolated: an exception
is logged with the plugin's name, its writes are rolled back, and the others still run.
Subscribers that touch the outside world enqueue a job.
"""
from __future__ import annotations

import logging

from flask import current_app

from .db import after_commit, db

log = logging.getLogger("backhaul.events")


def emit(event: str, **payload) -> None:
    """Deliver ``event`` to every subscriber once the current transaction commits.

    The payload must name exactly the hook's arguments (``app`` is added here): a typo is a
    ``TypeError`` now, in the emitting code, rather than a failure in every subscriber later.
    """
    app = current_app._get_current_object()
    plugins = app.extensions["backhaul.plugins"]
    if not plugins.has_hook(event):
        raise ValueError(f"unknown event '{event}': declare it with a @hookspec first")
    expected = set(plugins.hook_argnames(event)) - {"app"}
    if set(payload) != expected:
        missing, unexpected = sorted(expected - set(payload)), sorted(set(payload) - expected)
        raise TypeError(f"emit('{event}'): missing {missing}, unexpected {unexpected}; "
                        f"the hook takes {sorted(expected)}")
    after_commit(lambda: dispatch(app, event, payload), db.session())


def dispatch(app, event: str, payload: dict) -> None:
    """Call every subscriber now (after commit), each in its own transaction.

    What a subscriber writes (typically a job intent) is committed when it returns; if it
    raises, its writes are rolled back, the failure is logged with its name (by
    :meth:`Plugins.call`), and the next subscriber runs.
    """
    plugins = app.extensions["backhaul.plugins"]
    for plugin in plugins.call_order(event):
        answered = plugins.call(event, plugins=[plugin],
                                on_error=lambda name, exc: db.session.rollback(),
                                app=app, **payload)
        if not answered:
            continue
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("event %s: the writes of subscriber '%s' could not be committed",
                          event, plugin)
