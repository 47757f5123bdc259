"""The shell over HTTP: layout, permission-filtered navigation, dashboard, search, plugins
page, health check, error pages and account panels, with real sign-ins."""
from __future__ import annotations

import re

import pytest
from flask import Blueprint, render_template_string

from backhaul.sdk import AccountPanel, MenuItem, Permission, SearchResult
from backhaul.sdk.ui import render_account_panels


@pytest.fixture
def shell_plugin(temp_plugin):
    """An in-test plugin with two menu items (one needing a permission), a page, search,
    a panel that works and one that raises."""
    def blueprints(app):
        bp = Blueprint("shelltest", __name__, url_prefix="/shelltest")

        from backhaul.sdk import permission_required

        @bp.get("/things")
        @permission_required("shelltest.thing.view")
        def things():
            return render_template_string(
                '{% extends "base.html" %}{% block title %}Things{% endblock %}'
                '{% block content %}<h1>Things</h1>{% endblock %}')

        @bp.get("/boom")
        @permission_required("shelltest.thing.view")
        def boom():
            raise RuntimeError("secret internal detail")

        @bp.get("/panels/<int:account_id>")
        @permission_required("shelltest.thing.view")
        def panels(account_id):
            return render_template_string(
                '{% extends "base.html" %}{% block content %}{{ panels }}{% endblock %}',
                panels=render_account_panels(type("A", (), {"id": account_id, "name": "Ann"})))

        return [bp]

    def broken_panel(account):
        raise ValueError("panel exploded")

    return temp_plugin(
        "shelltest",
        permissions=lambda: [Permission("shelltest.thing.view", "See things"),
                             Permission("shelltest.secret.view", "See secrets")],
        menu_items=lambda: [
            MenuItem("Things", "shelltest.things", "shelltest.thing.view", section="Network"),
            MenuItem("Secret things", "shelltest.boom", "shelltest.secret.view",
                     section="Admin"),
            MenuItem("Everyone", "core_ui.search", None, section="Support")],
        register_blueprints=blueprints,
        account_panels=lambda: [
            AccountPanel("shelltest.ok", "Good panel", lambda a: f"<p>hello {a.name}</p>",
                         order=1),
            AccountPanel("shelltest.bad", "Bad panel", broken_panel, order=2),
            AccountPanel("shelltest.hidden", "Hidden panel", lambda a: "<p>hidden</p>",
                         permission="shelltest.secret.view")],
        search=lambda query: [SearchResult(f"Thing {query}", "/shelltest/things", "thing",
                                           "a thing", score=0.4)])


@pytest.fixture
def shell_app(make_app, shell_plugin):
    app = make_app(plugins=[], extra_plugins=[shell_plugin])
    with app.app_context():
        yield app


@pytest.fixture
def as_user(shell_app, staff_user, login):
    def sign_in(*permissions, name="Ada Lovelace"):
        client = shell_app.test_client()
        login(client, staff_user(permissions, name=name))
        return client

    return sign_in


def nav_labels(html: str) -> list[str]:
    nav = html[html.index('<nav id="sidebar"'):html.index("</nav>")]
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r"<a [^>]*>(.*?)</a>", nav,
                                                                   re.S)]


def test_anonymous_is_sent_to_sign_in_everywhere_but_health(shell_app):
    client = shell_app.test_client()
    for path in ("/", "/search?q=ann", "/plugins", "/shelltest/things"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": "ok"}
    assert health.headers["Cache-Control"] == "no-store"
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert health.headers["X-Frame-Options"] == "DENY"
    assert client.get("/static/backhaul.css").status_code == 200


def test_layout_shows_user_search_sign_out_and_filtered_nav(as_user):
    html = as_user("shelltest.thing.view").get("/").get_data(as_text=True)
    assert "Ada Lovelace" in html and 'class="avatar" aria-hidden="true">AL<' in html
    assert 'role="search"' in html and 'action="/search"' in html
    assert 'href="#main"' in html  # skip link
    assert re.search(r'<form class="sign-out" action="/logout" method="post">\s*'
                     r'<input type="hidden" name="csrf_token"', html)
    labels = nav_labels(html)
    assert "Things" in labels and "Everyone" in labels
    assert "Secret things" not in labels and "Plugins" not in labels


def test_nav_grows_with_permissions_and_highlights_the_current_page(as_user):
    client = as_user("shelltest.thing.view", "shelltest.secret.view", "core.plugins.view")
    html = client.get("/shelltest/things").get_data(as_text=True)
    labels = nav_labels(html)
    assert {"Things", "Secret things", "Plugins"} <= set(labels)
    assert labels.index("Things") < labels.index("Everyone") < labels.index("Plugins")
    active = re.findall(r'<a href="([^"]+)" class="nav-link active"\s*aria-current="page">',
                        html)
    assert active == ["/shelltest/things"]


def test_dashboard_tiles_follow_permissions(as_user):
    plain = as_user().get("/").get_data(as_text=True)
    assert "Dashboard" in plain and "Plugins enabled" not in plain and "Jobs failed" not in plain
    admin = as_user("core.plugins.view", "core.jobs.view").get("/").get_data(as_text=True)
    assert "Plugins enabled" in admin and "Jobs failed" in admin


def test_global_search_page(as_user):
    client = as_user()
    html = client.get("/search?q=+ann+").get_data(as_text=True)
    assert "Thing ann" in html and 'href="/shelltest/things"' in html
    assert 'value="ann"' in html  # the box keeps the query
    assert "1 result for" in html
    assert "at least 2 characters" in client.get("/search?q=a").get_data(as_text=True)


def test_plugins_page_needs_its_permission(as_user):
    assert as_user().get("/plugins").status_code == 403
    html = as_user("core.plugins.view").get("/plugins").get_data(as_text=True)
    for name in ("core", "auth", "audit", "accounts", "shelltest"):
        assert f'id="plugin-{name}"' in html
    assert "<code>search</code>" in html and "<code>menu_items</code>" in html


def test_plugins_page_shows_a_failed_plugin_and_why(make_app, staff_user, login, temp_plugin):
    broken = temp_plugin("brokenone", menu_items=lambda: 1 / 0)
    app = make_app(plugins=[], extra_plugins=[broken], strict_plugins=False)
    with app.app_context():
        client = app.test_client()
        login(client, staff_user(["core.plugins.view"]))
        html = client.get("/plugins").get_data(as_text=True)
    row = html[html.index('id="plugin-brokenone"'):]
    row = row[:row.index("</tr>")]
    assert 'class="status status-failed"' in row
    assert "ZeroDivisionError" in row
    dashboard = client.get("/").get_data(as_text=True)
    assert "failed to start" in dashboard and "brokenone" in dashboard


def test_account_panels_contained_and_filtered(as_user, caplog):
    html = as_user("shelltest.thing.view").get("/shelltest/panels/5").get_data(as_text=True)
    assert "<p>hello Ann</p>" in html
    assert "Bad panel" in html and "<strong>shelltest</strong> failed" in html
    assert "panel exploded" not in html and "Hidden panel" not in html
    assert "panel exploded" in caplog.text
    assert html.index("Good panel") < html.index("Bad panel")


def test_error_pages_html_and_json(as_user):
    client = as_user("shelltest.thing.view")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    assert "Ada Lovelace" in missing.get_data(as_text=True)  # signed in: the full layout
    api = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["error"]["code"] == 404


def test_unhandled_error_is_a_clean_500(shell_app, staff_user, login):
    shell_app.config["PROPAGATE_EXCEPTIONS"] = False
    shell_app.testing = False
    client = shell_app.test_client()
    login(client, staff_user(["shelltest.thing.view"]))
    response = client.get("/shelltest/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in body
    assert "secret internal detail" not in body and "Traceback" not in body
    assert 'class="bare"' in body
    json = client.get("/shelltest/boom", headers={"Accept": "application/json"})
    assert json.status_code == 500 and json.get_json()["error"]["code"] == 500


def test_flash_messages_render_with_roles(shell_app):
    from flask import flash

    with shell_app.test_request_context("/"):
        flash("Saved.", "success")
        flash("Careful.", "warning")
        flash("Plain.")
        html = render_template_string('{% include "core/_flashes.html" %}')
    assert 'class="flash flash-success" role="status"' in html
    assert 'class="flash flash-warning" role="alert"' in html
    assert 'class="flash flash-info" role="status"' in html


def test_every_shell_view_declares_its_guard(shell_app):
    from backhaul.core.auth.decorators import view_requirements

    views = {ep: view_requirements(fn) for ep, fn in shell_app.view_functions.items()
             if ep.startswith("core_ui.")}
    assert views["core_ui.health"]["public"]
    assert views["core_ui.plugins"]["permission"] == "core.plugins.view"
    for endpoint in ("core_ui.dashboard", "core_ui.search"):
        fn = shell_app.view_functions[endpoint]
        assert getattr(fn, "backhaul_login_required", False), endpoint
        assert not views[endpoint]["public"]


def test_aborts_render_the_shell_error_pages(make_app, temp_plugin, staff_user, login):
    from flask import abort

    def blueprints(app):
        bp = Blueprint("aborter", __name__, url_prefix="/aborter")

        @bp.get("/<int:code>")
        @login_required
        def aborting(code):
            abort(code)

        return [bp]

    from backhaul.core.auth.decorators import login_required

    app = make_app(plugins=[], extra_plugins=[temp_plugin("aborter",
                                                          register_blueprints=blueprints)])
    with app.app_context():
        client = app.test_client()
        login(client, staff_user())
        for code, title in ((403, "Not allowed"), (404, "Page not found"),
                            (405, "Method not allowed"), (401, "Please sign in")):
            response = client.get(f"/aborter/{code}")
            assert response.status_code == code and title in response.get_data(as_text=True)
        assert client.post("/health").status_code == 405
