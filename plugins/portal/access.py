"""The signed-in customer of the current request, and the decorator portal pages use.

Portal pages are ``public`` to the staff sign-in layer (default deny would send a customer
to the staff sign-in page) and require a *portal* session instead: :func:`customer_required`
reads only the portal cookie, so a staff session opens no portal page. CSRF is the core's
(Flask-WTF, checked before every state-changing request carrying a cookie).
"""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import current_app, g, redirect, request, url_for

from backhaul.sdk import current_plugin_settings, db, public
from backhaul.sdk.runtime import acting_as

from . import sessions
from .api import PortalViewer


def settings() -> dict:
    return current_plugin_settings("portal")


def idle() -> timedelta:
    return timedelta(minutes=settings()["session_idle_minutes"])


def absolute() -> timedelta:
    return timedelta(hours=settings()["session_absolute_hours"])


def current_viewer() -> PortalViewer | None:
    """The signed-in customer (looked up once per request), or ``None``."""
    if "portal_viewer" not in g:
        found = sessions.lookup(request.cookies.get(sessions.COOKIE), idle())
        db.session.commit()  # an ended session stays ended; last_seen_at refreshed
        g.portal_session = found[0] if found else None
        g.portal_viewer = PortalViewer(found[1].id, found[1].account_id, found[1].name,
                                       found[1].email) if found else None
    return g.portal_viewer


def set_cookie(response, token: str) -> None:
    response.set_cookie(sessions.COOKIE, token, max_age=int(absolute().total_seconds()),
                        path="/portal", httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(
                            current_app.config.get("SESSION_COOKIE_SECURE")))


def clear_cookie(response) -> None:
    response.delete_cookie(sessions.COOKIE, path="/portal")


def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def customer_required(view):
    """A portal page: needs a live portal session (else the portal's sign-in page)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        viewer = current_viewer()
        if viewer is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("portal.login", next=target))
        with acting_as("contact", str(viewer.contact_id), viewer.email):
            answer = view(viewer, *args, **kwargs)
        return no_store(current_app.make_response(answer))

    wrapper.portal_customer = True
    return public(wrapper)


__all__ = ["clear_cookie", "current_viewer", "customer_required", "no_store", "set_cookie",
           "settings"]
