"""Error pages for 401/403/404/413/500: HTML for people, JSON for API clients.

The message says what to do next; nothing about the internals (no exception text, no stack)
ever reaches the response. A 500 page uses the bare layout so that whatever broke the request
(the database, a plugin's menu) cannot break the error page too.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("backhaul.ui")

PAGES = {
    401: ("Please sign in", "You need to sign in to see this page."),
    403: ("Not allowed", "Your account does not have the permission this page needs. "
                         "Ask an administrator to grant it to one of your roles."),
    404: ("Page not found", "There is nothing at this address. Check the link, or use the "
                            "search box or the menu to find what you were looking for."),
    405: ("Method not allowed", "This page cannot be used that way."),
    413: ("Upload too large", "The data sent is larger than this server accepts. "
                              "Send a smaller file or fewer records at a time."),
    500: ("Something went wrong", "The server could not complete this request. The error has "
                                  "been logged; try again, and tell an administrator if it "
                                  "keeps happening."),
}


def wants_json() -> bool:
    """API clients: the GraphQL/API paths, JSON bodies, or an Accept header preferring JSON."""
    if request.path.startswith(("/graphql", "/api/")) or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def error_response(code: int, description: str | None = None):
    title, message = PAGES.get(code, PAGES[500])
    if wants_json():
        response = jsonify(error={"code": code, "title": title, "message": message})
        response.status_code = code
        return response
    template_data = {"code": code, "title": title, "message": message,
                     "bare": code >= 500}
    try:
        return render_template("core/error.html", **template_data), code
    except Exception:
        log.exception("could not render the %s error page", code)
        return f"{code} {title}\n", code, {"Content-Type": "text/plain; charset=utf-8"}


def register_error_handlers(app: Flask) -> None:
    def handle_http(exc: HTTPException):
        if exc.code in PAGES and exc.code != 500:
            return error_response(exc.code)
        return exc

    def handle_500(exc: InternalServerError):
        from backhaul.core.db import db

        try:
            db.session.rollback()
        except Exception:
            log.exception("rollback after an unhandled error failed")
        return error_response(500)

    taken = app.error_handler_spec.get(None, {})
    for code in (401, 403, 404, 405, 413):
        if not taken.get(code):  # e.g. auth may send 401s to its sign-in page: keep that
            app.register_error_handler(code, handle_http)
    app.register_error_handler(InternalServerError, handle_500)
