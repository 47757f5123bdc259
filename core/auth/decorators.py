"""View decorators and the responses for "who are you?" (401) and "not allowed" (403).

Every view requires a signed-in principal unless marked :func:`public` (default deny, applied
by the auth layer before any view runs). On top of that a view declares what it needs:

* ``@permission_required("billing.invoice.void")`` — the permission (the usual case);
* ``@login_required`` — any signed-in principal (profile pages, sign-out);
* ``@session_required`` — a signed-in *browser session*, never an API token (credential
  management: a token must not mint tokens or change passwords).

The markers are attributes on the view (``required_permission``, ``backhaul_public``...);
the permission-matrix test reads them to know what each route expects.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from .identity import bearer_token, current_principal

API_PREFIXES = ("/graphql", "/api/")


def wants_json() -> bool:
    """API-style requests (token, JSON body or Accept, API paths) get JSON errors, not pages."""
    if bearer_token() is not None or request.is_json:
        return True
    if request.path.startswith(API_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no open redirects), else ``None``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def unauthenticated_response(message: str | None = None):
    """401 JSON for API requests; otherwise a redirect to the sign-in page."""
    if wants_json():
        body = {"error": "unauthenticated",
                "message": message or "Sign in, or send an API token as "
                                      "'Authorization: Bearer bh_...'."}
        response = jsonify(body)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="backhaul"'
        return response
    if message:
        flash(message, "warning")
    target = request.full_path if request.method == "GET" else None
    target = target[:-1] if target and target.endswith("?") else target
    return redirect(url_for("auth.login", next=target) if target and target != "/" else
                    url_for("auth.login"))


def forbidden_response(permission: str | None, message: str | None = None):
    """403, naming the missing permission (names are not secret; it tells staff whom to ask)."""
    text = message or (f"You need the permission '{permission}' for this. Ask an "
                       "administrator to add it to one of your roles." if permission else
                       "You are not allowed to do this.")
    if wants_json():
        response = jsonify({"error": "forbidden", "message": text, "permission": permission})
        response.status_code = 403
        return response
    return render_template("auth/forbidden.html", message=text, permission=permission), 403


def public(view):
    """Mark a view as reachable without signing in (sign-in page, health check, webhooks)."""
    view.backhaul_public = True
    return view


def csrf_exempt(view):
    """Mark a state-changing view that authenticates requests itself (a signed webhook).

    Only for views without ambient credentials: a browser session must never reach one.
    """
    view.backhaul_csrf_exempt = True
    return view


def login_required(view):
    """Any signed-in principal (session or token)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_principal().is_authenticated:
            return unauthenticated_response()
        return view(*args, **kwargs)

    wrapper.backhaul_login_required = True
    return wrapper


def session_required(view):
    """A signed-in browser session; API tokens are refused (403)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = current_principal()
        if not principal.is_authenticated:
            return unauthenticated_response()
        if principal.token is not None:
            return forbidden_response(None, "API tokens cannot be used here: sign in to the "
                                            "web interface to manage your credentials.")
        return view(*args, **kwargs)

    wrapper.backhaul_session_required = True
    return wrapper


def permission_required(permission: str):
    """The principal must hold ``permission`` (anonymous: 401/redirect; otherwise 403)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if not principal.is_authenticated:
                return unauthenticated_response()
            if not principal.has_permission(permission):
                current_app.logger.info("permission %s refused to %s", permission,
                                        principal.actor)
                return forbidden_response(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorate


def view_requirements(view) -> dict:
    """What a view function declares (for the permission matrix and the plugins page)."""
    return {"public": bool(getattr(view, "backhaul_public", False)),
            "permission": getattr(view, "required_permission", None),
            "session_only": bool(getattr(view, "backhaul_session_required", False)),
            "csrf_exempt": bool(getattr(view, "backhaul_csrf_exempt", False))}
