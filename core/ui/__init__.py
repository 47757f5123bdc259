"""The staff UI shell: base layout, navigation, macros, global search, plugins page, errors.

``init_app`` installs the template helpers every page uses (``ui_shell()`` for the layout,
``bh_field_errors`` for the form macros, ``bh_cell`` for the list macros), the shell's blueprint
(endpoint prefix ``core_ui``) and the error pages.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from werkzeug.routing import BuildError

from .errors import register_error_handlers
from .nav import NavSection, build_nav
from .panels import render_account_panels
from .views import build_blueprint

log = logging.getLogger("backhaul.ui")

__all__ = ["init_app", "render_account_panels", "url_or_none"]


@dataclass(frozen=True)
class Shell:
    """What the layout needs about the signed-in user and where they may go."""

    user_name: str
    user_initials: str
    nav: list[NavSection]
    home_url: str | None
    home_active: bool
    search_url: str | None
    profile_url: str | None
    logout_url: str | None


def url_or_none(endpoint: str, **values) -> str | None:
    """``url_for`` that answers ``None`` for an endpoint that does not exist in this app."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def display_name(user) -> str:
    for attr in ("display_name", "full_name", "name", "username", "email"):
        value = getattr(user, attr, None)
        if value:
            return str(value)
    return "Signed in"


def initials(name: str) -> str:
    parts = [p for p in name.replace("@", " ").replace(".", " ").split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def ui_shell() -> Shell | None:
    """The layout's data for the current request; ``None`` for anonymous visitors.

    Never raises: a broken navigation must not turn every page (error pages included) into a
    500, so a failure is logged and the page falls back to the bare layout.
    """
    try:
        from backhaul.core.auth.identity import current_principal

        principal = current_principal()
        if not principal.is_authenticated or principal.user is None:
            return None
        items = current_app.extensions["backhaul.contributions"].menu_items
        nav = build_nav(items, principal.has_permission, url_or_none,
                        current_path=request.path, current_endpoint=request.endpoint)
        name = display_name(principal.user)
        return Shell(user_name=name, user_initials=initials(name), nav=nav,
                     home_url=url_or_none("core_ui.dashboard"),
                     home_active=request.endpoint == "core_ui.dashboard",
                     search_url=url_or_none("core_ui.search"),
                     profile_url=url_or_none("auth.profile"),
                     logout_url=url_or_none("auth.logout"))
    except Exception:
        log.exception("could not build the page shell; showing the bare layout")
        return None


def field_errors(errors, name: str) -> list[str]:
    """Messages for field ``name`` from marshmallow's errors (whole dict or just this field's).

    Dotted names reach into nested schemas ("address.city"); nested dicts and lists of
    messages are flattened so the macro can print them beside the input.
    """
    if not errors:
        return []
    if isinstance(errors, dict):
        found = errors.get(name)
        if found is None and "." in name:
            found = errors
            for part in name.split("."):
                found = found.get(part) if isinstance(found, dict) else None
                if found is None:
                    break
        errors = found
    return _flatten(errors)


def _flatten(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flatten(v)]
    return [str(value)]


def cell(row, key: str):
    """A list cell's value: ``row[key]`` for mappings and result rows, else the attribute."""
    mapping = getattr(row, "_mapping", row)
    if isinstance(mapping, dict) or hasattr(mapping, "keys"):
        try:
            return mapping[key]
        except (KeyError, TypeError):
            pass
    return getattr(row, key, "")


#: Safe for every response (no page of ours is framed, sniffed or leaks its URL elsewhere).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

#: On every HTML response. Everything a page uses comes from this server and no template may
#: carry an inline ``<script>``, ``on...=`` handler or ``style="..."`` attribute: put scripts
#: and styles in static files (a colour known only at run time: ``data-colour``, see
#: backhaul.js). A view that needs another policy sets the header itself; it is kept.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'"
)


#: on responses served over HTTPS (directly or behind a proxy that says so): browsers keep
#: to HTTPS for a year
HSTS = "max-age=31536000; includeSubDomains"


def _security_headers(response):
    from flask import request

    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def init_app(app: Flask) -> None:
    """Install the shell on ``app`` (after auth and the plugins' blueprints)."""
    app.after_request(_security_headers)
    from ..auth.staff import localtime

    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals.update(ui_shell=ui_shell, url_or_none=url_or_none,
                                 bh_field_errors=field_errors, bh_cell=cell,
                                 render_account_panels=render_account_panels)
    app.register_blueprint(build_blueprint())
    register_error_handlers(app)
