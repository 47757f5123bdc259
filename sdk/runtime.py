"""Runtime helpers re-exported by ``backhaul.sdk``: thin, stable wrappers over core internals."""
from __future__ import annotations

from typing import Any

from flask import current_app

from backhaul.core.db import TimestampMixin, UTCDateTime, db, money_columns, utcnow
from backhaul.core.events import emit
from backhaul.core.hookspecs import EXTENSION_POINTS
from backhaul.core.jobs import enqueue

from .markers import hookspec


def current_plugin_settings(name: str) -> dict:
    """The validated settings of plugin ``name`` in the current app."""
    return current_app.extensions["backhaul.plugins"].settings(name)


def plugin_enabled(name: str) -> bool:
    """Whether plugin ``name`` is enabled (and did not fail) in the current app: guard the
    use of an ``optional_depends_on`` plugin with it."""
    return current_app.extensions["backhaul.plugins"].is_enabled(name)


def registered(kind: str) -> dict:
    """The current app's validated extension-point contributions of ``kind``, by key.

    ``kind`` is ``"service_types"``, ``"payment_gateways"``, ``"provisioning_backends"`` or
    ``"notification_channels"``: e.g. ``registered("payment_gateways")["stripe"]``.
    """
    contributions = current_app.extensions["backhaul.contributions"]
    if kind not in EXTENSION_POINTS:
        raise ValueError(f"'{kind}' is not an extension point")
    return getattr(contributions, kind)


def call_hook(hook: str, **kwargs) -> list[tuple[str, Any]]:
    """Call every enabled plugin's implementation of ``hook``: ``[(plugin, answer), ...]``.

    For hooks a plugin publishes itself (``PluginMeta.hookspecs``). Each implementation is
    isolated: one that raises is logged with its plugin's name and left out. A hook published
    by a plugin that is not enabled answers ``[]``.
    """
    return current_app.extensions["backhaul.plugins"].call(hook, **kwargs)


def hook_implementers(hook: str) -> list[str]:
    """The enabled plugins implementing ``hook``, in call order (``[]`` for an unknown hook).

    Lets a caller skip preparing expensive arguments (loading accounts in bulk...) when
    nobody would receive them.
    """
    plugins = current_app.extensions["backhaul.plugins"]
    return plugins.call_order(hook) if plugins.has_hook(hook) else []


def may(permission: str) -> bool:
    """Whether the principal of the current request (signed-in user or API token) holds
    ``permission``: for showing or hiding actions in a page or panel (views still declare
    ``permission_required``)."""
    from backhaul.core.auth.identity import current_principal

    return current_principal().has_permission(permission)


def user_may(user: Any, permission: str) -> bool:
    """Whether the staff ``user`` holds ``permission`` (for hooks handed a user, e.g. search)."""
    if user is None:
        return False
    from backhaul.core.auth.identity import principal_for_user

    return principal_for_user(user).has_permission(permission)


def permission_required(permission: str):
    """Decorator for a view: the signed-in staff user must hold ``permission``.

    Anonymous users are sent to the login page (or get 401 for API requests); users without
    the permission get 403. Implemented by the core's auth module.
    """
    from backhaul.core.auth.decorators import permission_required as _impl

    return _impl(permission)



def public(view):
    """Mark a view as reachable without signing in (unsubscribe links, inbound webhooks).

    Such a view authenticates the request itself (a signed token, a webhook signature).
    """
    from backhaul.core.auth.decorators import public as _impl

    return _impl(view)


def csrf_exempt(view):
    """Mark a state-changing view that uses no ambient credentials (no session) as exempt
    from the CSRF check: a signed webhook, a one-click unsubscribe ``POST`` (RFC 8058)."""
    from backhaul.core.auth.decorators import csrf_exempt as _impl

    return _impl(view)


def current_actor():
    """Who is acting now (staff user, API token, job, system), e.g. for "changed by" columns.

    ``str(current_actor())`` is a short label such as ``user:jane@example.net``.
    """
    from backhaul.core.actor import current_actor as _impl

    return _impl()


def acting_as(kind: str, ident: str | None = None, label: str = ""):
    """Context manager: what is changed inside is recorded (audit trail, "changed by") as
    done by this actor, e.g. a customer in the portal: ``acting_as("contact", "42",
    "tina@example.net")``. For requests that no staff principal makes."""
    from backhaul.core.actor import Actor
    from backhaul.core.actor import acting_as as _impl

    return _impl(Actor(kind[:16], ident, label[:200]))


__all__ = ["TimestampMixin", "acting_as", "UTCDateTime", "call_hook", "csrf_exempt", "current_actor", "current_plugin_settings", "db", "emit",
           "enqueue", "hook_implementers", "hookspec", "may", "money_columns", "permission_required", "plugin_enabled", "public", "registered",
           "user_may", "utcnow"]
