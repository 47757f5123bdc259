"""Runtime helpers re-exported by ``backhaul.sdk``: thin, stable wrappers over core internals."""
from __future__ import annotations

import pluggy
from flask import current_app

from backhaul.core.db import TimestampMixin, UTCDateTime, db, money_columns, utcnow
from backhaul.core.events import emit
from backhaul.core.jobs import enqueue

hookspec = pluggy.HookspecMarker("backhaul")


def current_plugin_settings(name: str) -> dict:
    """The validated settings of plugin ``name`` in the current app."""
    return current_app.extensions["backhaul.plugins"].settings(name)


def permission_required(permission: str):
    """Decorator for a view: the signed-in staff user must hold ``permission``.

    Anonymous users are sent to the login page (or get 401 for API requests); users without
    the permission get 403. Implemented by the core's auth module.
    """
    from backhaul.core.auth.decorators import permission_required as _impl

    return _impl(permission)


__all__ = ["TimestampMixin", "UTCDateTime", "current_plugin_settings", "db", "emit", "enqueue",
           "hookspec", "money_columns", "permission_required", "utcnow"]
