"""The permission matrix: every route of an app with every installed plugin, for four
principals — anonymous, a user holding every permission but the one needed, a read-only
token of a user who holds it, and a user holding just that permission.

What a route needs is read from its view (``@permission_required``, ``@login_required``,
``@session_required``, ``@public``; an undecorated view is still closed to anonymous users by
default deny). ``expected_refusal`` is the one rule every part of the matrix applies; the
GraphQL part (every field) reuses it with the same ``matrix_principals`` fixture.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from auth_probe import probe_plugin

from backhaul.core.auth.identity import known_permissions
from backhaul.core.auth.roles import is_read_permission

SKIP_ENDPOINTS = {"static"}
#: Where landing on the sign-in page is the success (the allowed user just signed out).
SIGN_OUT_ENDPOINTS = {"auth.logout", "auth.sign_out_everywhere"}
SAMPLE_VALUES = {"IntegerConverter": 987654, "FloatConverter": 1.5,
                 "UUIDConverter": "00000000-0000-0000-0000-000000000000"}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: str
    permission: str | None
    session_only: bool

    def __str__(self) -> str:
        return f"{self.method} {self.url} ({self.endpoint})"


@pytest.fixture
def app(make_app):
    application = make_app(extra_plugins=[probe_plugin()])
    with application.app_context():
        yield application


def _sample(converter) -> object:
    name = type(converter).__name__
    if name == "AnyConverter":
        return sorted(converter.items)[0] if hasattr(converter, "items") else "x"
    return SAMPLE_VALUES.get(name, "matrix-probe")


def pinned(endpoint: str, method: str) -> tuple[str | None, bool, bool]:
    """``(permission, session_only, public)`` from the REVIEWED TABLE (permission_table.py),
    never from the view under test: weakening a decorator must make the matrix fail."""
    from permission_table import ROUTES

    value = ROUTES[f"{method} {endpoint}"]  # KeyError: a new route; review and add it
    words = value.split()
    permission = next((w for w in words if not w.startswith("@")), None)
    return permission, "@session" in words, "@public" in words


def protected_routes(app) -> list[Route]:
    """Every (rule, method) that is not public, with what the reviewed table requires."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue  # static files are public (tested below)
        values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            permission, session_only, public = pinned(rule.endpoint, method)
            if public:
                continue
            url = adapter.build(rule.endpoint, values, method=method)
            routes.append(Route(rule.endpoint, method, url, permission, session_only))
    return routes


def expected_refusal(principal: str, permission: str | None, session_only: bool = False
                     ) -> int | None:
    """The status a principal must get (401 means "401 or a redirect to sign-in"), or
    ``None`` when it must be let through (anything but 401/403)."""
    if principal == "anonymous":
        return 401
    if principal == "without":
        return 403 if permission else None
    if principal == "read_token":
        if session_only or (permission and not is_read_permission(permission)):
            return 403
        return None
    return None  # allowed


def check(principal: str, response, refusal: int | None, signs_out: bool = False
          ) -> str | None:
    """A description of what is wrong with ``response``, or ``None``."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if refusal == 401:
        redirected = status in (302, 303) and "/login" in response.headers.get("Location", "")
        return None if status == 401 or redirected else f"expected 401/sign-in, got {status}"
    if refusal == 403:
        return None if status == 403 else f"expected 403, got {status}"
    if status in (401, 403) or (not signs_out and status in (302, 303) and
                                "/login" in response.headers.get("Location", "")):
        return f"expected access, got {status}"
    return None


def test_every_required_permission_is_declared(app):
    known = known_permissions()
    undeclared = {(r.endpoint, r.permission) for r in protected_routes(app)
                  if r.permission and r.permission not in known}
    assert not undeclared, f"views require permissions no plugin declares: {undeclared}"


def test_the_matrix_covers_the_routes_that_matter(app):
    endpoints = {r.endpoint for r in protected_routes(app)}
    assert {"auth.users_list", "auth.role_edit", "auth.my_tokens", "auth.logout",
            "probe.open_route", "probe.edit", "core_ui.plugins"} <= endpoints
    public = {rule.endpoint for rule in app.url_map.iter_rules()} - endpoints
    assert {"auth.login", "auth.login_verify", "core_ui.health", "probe.public_route"} <= public


def test_route_permission_matrix(app, matrix_principals):
    failures = []
    routes = protected_routes(app)
    for route in routes:
        principals = matrix_principals(route.permission)
        for client in principals.all():
            try:
                response = client.open(route.method, route.url)
            except Exception as exc:  # TESTING propagates view errors: report, go on
                failures.append(f"{route} as {client.name}: raised {exc!r}"[:300])
                continue
            problem = check(client.name, response,
                            expected_refusal(client.name, route.permission, route.session_only),
                            signs_out=route.endpoint in SIGN_OUT_ENDPOINTS)
            if problem:
                failures.append(f"{route} as {client.name}: {problem}")
    assert not failures, f"{len(failures)} of {len(routes)} routes misbehave:\n" + "\n".join(
        failures)


def test_static_files_of_every_blueprint_are_public_and_cacheable(app, client):
    """Stylesheets and scripts are not secrets: served to anyone, cacheable by browsers."""
    static = [r for r in app.url_map.iter_rules() if r.endpoint.endswith(".static")]
    assert static, "blueprints with static folders exist (graphql, accounts)"
    response = client.get("/graphql/static/explorer.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
