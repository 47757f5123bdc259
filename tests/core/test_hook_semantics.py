"""Hooks honour pluggy's markers, receive their context, and fail with names attached.

The order is asserted from what the implementations themselves record (not from the core's
own ordering function), so a core that ignores ``tryfirst`` fails here.
"""
from __future__ import annotations

import logging

import pytest
from marshmallow import Schema, fields

from backhaul.core.plugins import CORE_PLUGINS, PluginLoadError
from backhaul.sdk import MenuItem, Permission, PluginContext, PluginMeta, SearchResult, hookimpl


def _searcher(name: str, seen: list[str], **marks):
    def search(query):
        seen.append(name)
        return [SearchResult(title=name, url=f"/{name}", kind="test")]

    search.__name__ = "search"
    return hookimpl(**marks)(search) if marks else search


def _search(app):
    plugins = app.extensions["backhaul.plugins"]
    with app.test_request_context():
        answers = plugins.call("search", query="zz", user=None, limit=5)
    return [(name, answer) for name, answer in answers if name not in CORE_PLUGINS]


def test_a_third_party_tryfirst_implementation_runs_before_the_built_in(make_app, temp_plugin):
    seen: list[str] = []
    builtin = temp_plugin("builtin", search=_searcher("builtin", seen))
    third = temp_plugin("third", meta=PluginMeta("third", depends_on=("builtin",)),
                        search=_searcher("third", seen, tryfirst=True))
    app = make_app(plugins=[], extra_plugins=[builtin, third])
    assert app.extensions["backhaul.plugins"].order.index("builtin") < \
        app.extensions["backhaul.plugins"].order.index("third"), "builtin loads first"
    answers = _search(app)
    assert seen == ["third", "builtin"]
    assert [name for name, _ in answers] == ["third", "builtin"]


def test_a_trylast_fallback_yields_to_a_plugin_that_simply_exists(make_app, temp_plugin):
    seen: list[str] = []
    fallback = temp_plugin("fallback", search=_searcher("fallback", seen, trylast=True))
    other = temp_plugin("other", search=_searcher("other", seen))
    app = make_app(plugins=[], extra_plugins=[fallback, other])
    _search(app)
    assert seen == ["other", "fallback"]



@pytest.mark.parametrize("marks", [{"wrapper": True}, {"hookwrapper": True}])
def test_a_wrapper_is_refused_naming_the_plugin_and_the_hook(make_app, temp_plugin, marks):
    def search(query):
        result = yield
        return result

    search.__name__ = "search"
    wrapping = temp_plugin("wrapping", search=hookimpl(**marks)(search))
    with pytest.raises(PluginLoadError, match=r"plugin 'wrapping' failed: .*hook 'search'.*"
                                              r"wrapper"):
        make_app(plugins=[], extra_plugins=[wrapping], strict_plugins=True)
    app = make_app(plugins=[], extra_plugins=[wrapping], strict_plugins=False)
    record = app.extensions["backhaul.plugins"].records["wrapping"]
    assert record.status == "failed" and "tryfirst" in record.reason
    assert _search(app) == [], "a refused wrapper is never called"


class _Settings(Schema):
    colour = fields.Str(load_default="blue")


def test_contribution_hooks_receive_their_own_plugins_context(make_app, temp_plugin):
    got: dict[str, PluginContext] = {}

    def permissions(context):
        got["permissions"] = context
        return [Permission(f"{context.name}.thing.view", context.settings["colour"])]

    def startup(app, context):
        got["startup"] = context

    ctx = temp_plugin("ctx", meta=PluginMeta("ctx", settings_schema=_Settings),
                      permissions=permissions, startup=startup)
    app = make_app(plugins=[], extra_plugins=[ctx], plugin_settings={"ctx": {"colour": "red"}})
    assert got["permissions"].name == "ctx" and got["permissions"].settings == {"colour": "red"}
    assert got["permissions"].app is app and got["startup"].app is app
    perms = {p.name: p for p in app.extensions["backhaul.contributions"].permissions}
    assert perms["ctx.thing.view"].description == "red"


def test_startup_runs_once_per_app_in_an_app_context(make_app, temp_plugin):
    calls = []

    def startup(app):
        from flask import current_app

        calls.append(current_app._get_current_object() is app)
        app.extensions["starter"] = "ready"

    starter = temp_plugin("starter", startup=startup)
    first = make_app(plugins=[], extra_plugins=[starter])
    second = make_app(plugins=[], extra_plugins=[starter])
    assert calls == [True, True]
    assert first.extensions["starter"] == second.extensions["starter"] == "ready"


def test_a_failing_startup_fails_the_plugin_and_its_dependents_naming_the_hook(make_app,
                                                                              temp_plugin):
    def startup():
        raise RuntimeError("no database of mine")

    broken = temp_plugin("broken", startup=startup)
    child = temp_plugin("child", meta=PluginMeta("child", depends_on=("broken",)))
    app = make_app(plugins=[], extra_plugins=[broken, child], strict_plugins=False)
    records = app.extensions["backhaul.plugins"].records
    assert records["broken"].status == "failed"
    assert "hook 'startup'" in records["broken"].reason
    assert "no database of mine" in records["broken"].reason
    assert records["child"].status == "failed"
    with pytest.raises(PluginLoadError, match="plugin 'broken' failed: .*hook 'startup'"):
        make_app(plugins=[], extra_plugins=[broken], strict_plugins=True)


def test_a_failing_contribution_names_the_hook(make_app, temp_plugin):
    def menu_items():
        raise RuntimeError("menu exploded")

    bad = temp_plugin("bad", menu_items=menu_items)
    app = make_app(plugins=[], extra_plugins=[bad], strict_plugins=False)
    assert "hook 'menu_items'" in app.extensions["backhaul.plugins"].records["bad"].reason


def test_the_hook_trace_shows_contribution_calls(make_app, temp_plugin, caplog):
    traced = temp_plugin("traced", menu_items=lambda: [MenuItem("T", "traced.index")],
                         permissions=lambda context: [])
    with caplog.at_level(logging.INFO, logger="backhaul.hooks"):
        make_app(plugins=[], extra_plugins=[traced], trace_hooks=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "backhaul.hooks"]
    assert any(line.startswith("hook menu_items(") and "plugin 'traced'" in line
               for line in lines), lines
    assert any(line.startswith("hook permissions(context)") and "plugin 'traced'" in line
               for line in lines), lines


def test_a_module_level_blueprint_serves_several_apps(make_app, login, staff_user):
    """The example plugin keeps its blueprint at module level (Flask 3.1)."""
    from backhaul.plugins.example import views

    apps = [make_app(plugins=["example"]), make_app(plugins=["example"])]
    for app in apps:
        assert app.blueprints["example"] is views.bp
        assert app.test_client().get("/example/").status_code in (302, 401)
