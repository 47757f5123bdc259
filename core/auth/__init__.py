"""Staff sign-in, roles and permissions, API tokens: installed on the app by :func:`init_app`.

Per request, before any view (in this order):

1. a body larger than ``MAX_CONTENT_LENGTH`` is refused with 413;
2. the principal is resolved (Bearer token, else the server-side session) and set as the
   current actor for the audit trail; a bad token is refused with 401 and a JSON reason;
3. default deny: a view not marked ``@public`` needs a signed-in principal (401 / sign-in);
4. CSRF (Flask-WTF) on every state-changing request that carries ambient credentials, i.e.
   everything except Bearer-token requests and views marked ``@csrf_exempt``.

The blueprint, menu items, permissions and CLI are contributed by the ``auth`` core plugin
(:mod:`.plugin`) through the same hooks any plugin uses.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from ..actor import reset_actor, set_actor

log = logging.getLogger("backhaul.security")

PUBLIC_ENDPOINTS = frozenset({"static"})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return forced or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    """Install authentication, default deny and CSRF protection on ``app``."""
    from . import models  # noqa: F401  (tables join the metadata)

    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):  # Flask's default name
        app.config["SESSION_COOKIE_NAME"] = "backhaul_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # CSRF is checked by _before_request (so that Bearer-token requests are exempt), not by
    # Flask-WTF's own hook; tokens stay valid as long as a session may last.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(app.config["SESSION_ABSOLUTE_HOURS"]) * 3600)
    app.session_interface = SessionInterface()
    CSRFProtect(app)
    app.before_request(_before_request)
    app.after_request(_no_shared_caching)
    app.teardown_request(_teardown_request)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)

    @app.context_processor
    def _principal():
        from .identity import current_principal

        return {"principal": current_principal()}


def is_public(endpoint: str | None, view) -> bool:
    """Static files (the app's and every blueprint's) and views marked ``@public``."""
    if endpoint in PUBLIC_ENDPOINTS or (endpoint or "").endswith(".static"):
        return True
    return bool(getattr(view, "backhaul_public", False))


def _before_request():
    from .decorators import unauthenticated_response
    from .identity import authenticate_request

    # ``g`` lives on the app context, which a test client shares across requests while the
    # test holds one open: start from a clean slate so each request behaves as in production.
    for key in ("backhaul_principal", "backhaul_session_ended", "csrf_valid",
                current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        g.pop(key, None)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length and request.content_length > limit:
        raise RequestEntityTooLarge()
    principal, rejection = authenticate_request()
    g.backhaul_principal = principal
    g.backhaul_actor_token = set_actor(principal.actor)
    if rejection is not None:
        log.warning("API token refused from %s: %s%s", request.remote_addr, rejection.code,
                    f" (token id {rejection.token_id})" if rejection.token_id else "")
        response = jsonify({"error": rejection.code, "message": rejection.message})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="backhaul", error="invalid_token", '
            f'error_description="{rejection.code}"')
        return response
    if request.endpoint is None:
        return None  # no such route: 404/405 follow
    view = current_app.view_functions.get(request.endpoint)
    if not is_public(request.endpoint, view) and not principal.is_authenticated:
        ended = g.get("backhaul_session_ended")
        return unauthenticated_response(
            "Your session has ended. Sign in again." if ended else None)
    if principal.token is None and not getattr(view, "backhaul_csrf_exempt", False):
        current_app.extensions["csrf"].protect(apply_exemptions=True)
    return _forced_password_change(principal, view)


#: what a staff member signed in with a printed password may still open
PASSWORD_CHANGE_ENDPOINTS = {"auth.profile", "auth.change_password", "auth.logout"}


def _forced_password_change(principal, view):
    """Signed in with a printed/initial password: only the profile page until it is changed."""
    if principal.token is not None or principal.user is None or is_public(request.endpoint,
                                                                         view):
        return None
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS:
        return None
    from .staff import must_change_password

    if not must_change_password(principal.user):
        return None
    from flask import flash, redirect, url_for

    if request.path.startswith("/graphql"):
        response = jsonify({"error": "password_change_required", "permission": None,
                            "message": "Change the printed password on the profile page first."})
        response.status_code = 403
        return response
    flash("You signed in with a printed password: choose your own before you go on.", "warning")
    return redirect(url_for("auth.profile"))


def _no_shared_caching(response):
    """Pages made for a signed-in principal are never stored by browsers or proxies."""
    principal = g.get("backhaul_principal")
    if (principal is not None and principal.is_authenticated
            and not is_public(request.endpoint, None)):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _teardown_request(_exc):
    token = g.pop("backhaul_actor_token", None)
    if token is not None:
        try:
            reset_actor(token)
        except ValueError:  # set in another context (should not happen); leave it
            pass


def _csrf_error(error: CSRFError):
    from .decorators import wants_json

    log.warning("CSRF check failed for %s %s from %s: %s", request.method, request.path,
                request.remote_addr, error.description)
    message = ("The form could not be accepted because its security token is missing or "
               "invalid (the page may have been open too long, or the request came from "
               "another site). Reload the page and try again.")
    if wants_json():
        return jsonify({"error": "csrf_failed", "message": message,
                        "detail": error.description}), 400
    return render_template("auth/error.html", title="Form expired", message=message,
                           detail=error.description), 400


def _too_large(error: RequestEntityTooLarge):
    from .decorators import wants_json

    # ``g`` lives on the app context, which a test client shares across requests while the
    # test holds one open: start from a clean slate so each request behaves as in production.
    for key in ("backhaul_principal", "backhaul_session_ended", "csrf_valid",
                current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        g.pop(key, None)
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = (f"The request is too large: the limit is {limit / (1024 * 1024):.1f} MB. "
               "Send a smaller file or split the request.")
    if wants_json():
        return jsonify({"error": "request_too_large", "message": message}), 413
    return render_template("auth/error.html", title="Request too large", message=message), 413
