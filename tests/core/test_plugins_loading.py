"""Plugin loading: every way a plugin can fail is contained (or fatal in strict mode)."""
from __future__ import annotations

import json
import logging
import sys
import textwrap
import types

import pytest

from backhaul.core.config import ConfigError
from backhaul.core.plugins import PluginLoadError
from backhaul.sdk import MenuItem, Permission, PluginMeta, hookimpl, hookspec
from backhaul.sdk.testing import run_cli


def install_fake_distribution(monkeypatch, tmp_path, name: str, source: str) -> None:
    """A real installed distribution with a ``backhaul.plugins`` entry point (no mocks):
    a ``.dist-info`` folder and a module on ``sys.path``, found by ``importlib.metadata``."""
    module = f"bh_fake_{name}"
    dist = tmp_path / f"bh_fake_{name}-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: bh-fake-{name}\n"
                                   "Version: 1.2.3\n")
    (dist / "entry_points.txt").write_text(f"[backhaul.plugins]\n{name} = {module}\n")
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)


def row(app, name: str) -> dict:
    return next(r for r in app.extensions["backhaul.plugins"].describe() if r["name"] == name)


def listed(app, name: str) -> dict:
    """The plugin's row as ``backhaul plugins list --json`` prints it."""
    result = run_cli(app, "plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    return next(r for r in json.loads(result.output) if r["name"] == name)


def assert_failed(app, name: str, *words: str) -> dict:
    for found in (row(app, name), listed(app, name)):
        assert found["status"] == "failed", found
        for word in words:
            assert word in found["reason"], found["reason"]
    assert not app.extensions["backhaul.plugins"].is_enabled(name)
    return found


# ----------------------------------------------------------------------------- import error
BROKEN_IMPORT = """
    import left_pad_that_is_not_installed  # noqa
"""


def test_import_error_is_reported_and_the_app_runs(make_app, monkeypatch, tmp_path):
    install_fake_distribution(monkeypatch, tmp_path, "brokenimport", BROKEN_IMPORT)
    app = make_app(plugins=["brokenimport", "example"], strict_plugins=False)
    found = assert_failed(app, "brokenimport", "import failed", "ModuleNotFoundError",
                          "left_pad_that_is_not_installed")
    assert found["version"] == "1.2.3" and found["source"] == "entry point"
    assert row(app, "example")["status"] == "enabled"
    assert app.test_client().get("/login").status_code == 200


def test_import_error_is_fatal_in_strict_mode(make_app, monkeypatch, tmp_path):
    install_fake_distribution(monkeypatch, tmp_path, "brokenimport", BROKEN_IMPORT)
    with pytest.raises(PluginLoadError, match="plugin 'brokenimport' failed: import failed"):
        make_app(plugins=["brokenimport"], strict_plugins=True)


def test_a_plugin_without_meta_is_reported(make_app, monkeypatch, tmp_path):
    install_fake_distribution(monkeypatch, tmp_path, "nometa", "X = 1\n")
    app = make_app(plugins=["nometa"], strict_plugins=False)
    assert_failed(app, "nometa", "META = PluginMeta")


def test_a_disabled_broken_plugin_is_never_imported(make_app, monkeypatch, tmp_path):
    install_fake_distribution(monkeypatch, tmp_path, "brokenimport", BROKEN_IMPORT)
    app = make_app(plugins=["example"], strict_plugins=True)
    assert row(app, "brokenimport")["status"] == "disabled"


# ----------------------------------------------------------------------------- dependencies
def test_missing_dependency_fails_the_plugin_and_its_dependents(make_app, temp_plugin):
    needy = temp_plugin("needy", meta=PluginMeta("needy", depends_on=("nowhere",)))
    child = temp_plugin("child", meta=PluginMeta("child", depends_on=("needy",)))
    app = make_app(plugins=[], extra_plugins=[child, needy], strict_plugins=False)
    assert_failed(app, "needy", "needs plugin 'nowhere'", "not installed")
    assert_failed(app, "child", "needs plugin 'needy', which failed")


def test_dependency_on_a_disabled_plugin(make_app, temp_plugin):
    needy = temp_plugin("needy", meta=PluginMeta("needy", depends_on=("example",)))
    app = make_app(plugins=[], extra_plugins=[needy], strict_plugins=False)
    assert_failed(app, "needy", "needs plugin 'example', which is not enabled")


def test_dependencies_load_first(make_app, temp_plugin):
    child = temp_plugin("child", meta=PluginMeta("child", depends_on=("parent",)))
    parent = temp_plugin("parent")
    app = make_app(plugins=[], extra_plugins=[child, parent])
    order = app.extensions["backhaul.plugins"].order
    assert order.index("parent") < order.index("child")
    assert row(app, "child")["depends_on"] == ["parent"]


def test_an_optional_dependency_loads_first_when_enabled_and_may_be_absent(make_app,
                                                                           temp_plugin):
    child = temp_plugin("child", meta=PluginMeta("child", optional_depends_on=("parent",)))
    parent = temp_plugin("parent")
    app = make_app(plugins=[], extra_plugins=[child, parent])
    order = app.extensions["backhaul.plugins"].order
    assert order.index("parent") < order.index("child")
    alone = make_app(plugins=[], extra_plugins=[child], strict_plugins=True)
    assert alone.extensions["backhaul.plugins"].is_enabled("child")


def test_missing_dependency_is_fatal_in_strict_mode(make_app, temp_plugin):
    needy = temp_plugin("needy", meta=PluginMeta("needy", depends_on=("nowhere",)))
    with pytest.raises(PluginLoadError, match="needs plugin 'nowhere'"):
        make_app(plugins=[], extra_plugins=[needy], strict_plugins=True)


# ----------------------------------------------------------------------------- SDK range
def test_incompatible_sdk_range_says_what_to_do(make_app, temp_plugin):
    future = temp_plugin("future", meta=PluginMeta("future", requires_sdk=">=2,<3"))
    bogus = temp_plugin("bogus", meta=PluginMeta("bogus", requires_sdk="one point oh"))
    app = make_app(plugins=[], extra_plugins=[future, bogus], strict_plugins=False)
    assert_failed(app, "future", "needs the plugin API >=2,<3", "offers 1.0",
                  "upgrade backhaul")
    assert_failed(app, "bogus", "not a PEP 440 range")


def test_incompatible_sdk_range_is_fatal_in_strict_mode(make_app, temp_plugin):
    future = temp_plugin("future", meta=PluginMeta("future", requires_sdk=">=2"))
    with pytest.raises(PluginLoadError, match="needs the plugin API >=2"):
        make_app(plugins=[], extra_plugins=[future], strict_plugins=True)


# ----------------------------------------------------------------------------- registration
def test_exception_during_registration(make_app, temp_plugin):
    # pluggy refuses an implementation asking for an argument the spec does not have
    wrong = temp_plugin("wrongargs", search=lambda query, colour: [])
    app = make_app(plugins=[], extra_plugins=[wrong], strict_plugins=False)
    assert_failed(app, "wrongargs", "registration failed", "colour")
    with pytest.raises(PluginLoadError, match="registration failed"):
        make_app(plugins=[], extra_plugins=[wrong], strict_plugins=True)


def test_misspelt_hook_is_reported(make_app, temp_plugin):
    typo = temp_plugin("typo", permisions=lambda: [])
    app = make_app(plugins=[], extra_plugins=[typo], strict_plugins=False)
    assert_failed(app, "typo", "unknown hook(s) permisions")


# ----------------------------------------------------------------------------- contributions
def test_exception_in_a_contribution_hook(make_app, temp_plugin):
    def menu_items():
        raise RuntimeError("menu exploded")

    bad = temp_plugin("bad", permissions=lambda: [Permission("bad.thing.view", "x")],
                      menu_items=menu_items)
    child = temp_plugin("badchild", meta=PluginMeta("badchild", depends_on=("bad",)),
                        permissions=lambda: [Permission("badchild.thing.view", "x")])
    app = make_app(plugins=["example"], extra_plugins=[bad, child], strict_plugins=False)
    assert_failed(app, "bad", "contribution failed", "RuntimeError", "menu exploded")
    assert_failed(app, "badchild", "needs plugin 'bad', which failed")
    names = {p.name for p in app.extensions["backhaul.contributions"].permissions}
    assert "bad.thing.view" not in names, "nothing a failed plugin contributed is used"
    assert "badchild.thing.view" not in names
    assert "example.greetings.view" in names
    assert app.test_client().get("/login").status_code == 200


def test_exception_in_a_contribution_hook_is_fatal_in_strict_mode(make_app, temp_plugin):
    def permissions():
        raise RuntimeError("no")

    bad = temp_plugin("bad", permissions=permissions)
    with pytest.raises(PluginLoadError, match="plugin 'bad' failed: contribution failed"):
        make_app(plugins=[], extra_plugins=[bad], strict_plugins=True)


def test_wrong_contribution_type_is_refused(make_app, temp_plugin):
    bad = temp_plugin("badtype", menu_items=lambda: [{"label": "x"}])
    app = make_app(plugins=[], extra_plugins=[bad], strict_plugins=False)
    assert_failed(app, "badtype", "menu_items returned dict, expected MenuItem")


def test_duplicate_contribution_key(make_app, temp_plugin):
    first = temp_plugin("first", permissions=lambda: [Permission("shared.x.view", "one")])
    second = temp_plugin("second", permissions=lambda: [Permission("shared.x.view", "two")],
                         menu_items=lambda: [MenuItem("Second", "second.index")])
    app = make_app(plugins=[], extra_plugins=[first, second], strict_plugins=False)
    assert_failed(app, "second", "'shared.x.view' is already registered by 'first'")
    contributions = app.extensions["backhaul.contributions"]
    assert contributions.registry["permissions"]["shared.x.view"][0] == "first"
    assert not [m for m in contributions.menu_items if m.endpoint == "second.index"]
    with pytest.raises(PluginLoadError, match="already registered by 'first'"):
        make_app(plugins=[], extra_plugins=[first, second], strict_plugins=True)


def test_duplicate_key_within_one_plugin(make_app, temp_plugin):
    twice = temp_plugin("twice", permissions=lambda: [Permission("twice.x.view", "a"),
                                                      Permission("twice.x.view", "b")])
    app = make_app(plugins=[], extra_plugins=[twice], strict_plugins=False)
    assert_failed(app, "twice", "already registered")


# ----------------------------------------------------------------------------- configuration
def test_unknown_plugin_name_lists_the_installed_ones(make_app):
    with pytest.raises(ConfigError) as err:
        make_app(plugins=["exampel"])
    message = str(err.value)
    assert "setting 'PLUGINS'" in message and "unknown plugin 'exampel'" in message
    assert "Installed plugins:" in message and "example" in message


def test_essential_plugins_cannot_be_disabled(make_app):
    app = make_app(plugins=["example"])  # auth, audit... not listed: still enabled
    for name in ("core", "auth", "audit", "accounts"):
        assert row(app, name)["status"] == "enabled"
        assert row(app, name)["essential"] is True
    with pytest.raises(ConfigError, match="plugin 'auth' is essential and cannot be disabled"):
        make_app(disabled_plugins=["auth"])


def test_disabled_plugins_are_taken_out(make_app):
    app = make_app(plugins=["example"], disabled_plugins=["example"])
    assert row(app, "example")["status"] == "disabled"
    assert row(app, "example")["essential"] is False
    with pytest.raises(ConfigError, match="unknown plugin 'nope'"):
        make_app(disabled_plugins=["nope"])


def test_settings_for_an_uninstalled_plugin_are_an_error(make_app):
    with pytest.raises(ConfigError, match="settings are given for 'exmaple'"):
        make_app(plugins=[], plugin_settings={"exmaple": {"greeting": "Hi"}})


# ----------------------------------------------------------------------------- published hooks
@hookspec
def pub_decorate(text):
    """Decorate ``text``. Called by the publisher.

    :param text: what to decorate.
    """


# a plugin publishes a module of specs (its hookspecs.py); here one built in the test
PublishedSpecs = types.ModuleType("published_specs")
PublishedSpecs.pub_decorate = pub_decorate


def test_a_plugin_publishes_hookspecs_another_implements(make_app, temp_plugin):
    # the implementer loads first (no dependency declared): the spec arrives after it
    implementer = temp_plugin("aaa_impl", pub_decorate=lambda text: f"*{text}*")
    publisher = temp_plugin("zzz_pub", meta=PluginMeta("zzz_pub", hookspecs=PublishedSpecs),
                            pub_decorate=lambda text: f"<{text}>")
    app = make_app(plugins=[], extra_plugins=[implementer, publisher])
    plugins = app.extensions["backhaul.plugins"]
    assert plugins.has_hook("pub_decorate")
    assert sorted(plugins.call("pub_decorate", text="hi")) == [("aaa_impl", "*hi*"),
                                                               ("zzz_pub", "<hi>")]
    assert "pub_decorate" in row(app, "aaa_impl")["hooks"]


@hookimpl(optionalhook=True)
def _optional_pub_decorate(text):
    return text


def test_implementing_a_hook_of_an_absent_publisher(make_app, temp_plugin):
    optional = temp_plugin("optional")
    optional.pub_decorate = _optional_pub_decorate  # pluggy reads the attribute's name
    strict = temp_plugin("strictimpl", pub_decorate=lambda text: text)
    app = make_app(plugins=[], extra_plugins=[optional, strict], strict_plugins=False)
    assert row(app, "optional")["status"] == "enabled"
    assert_failed(app, "strictimpl", "unknown hook(s) pub_decorate", "optionalhook")


def test_two_plugins_publishing_the_same_hook(make_app, temp_plugin):
    one = temp_plugin("one", meta=PluginMeta("one", hookspecs=PublishedSpecs))
    two = temp_plugin("two", meta=PluginMeta("two", hookspecs=PublishedSpecs))
    app = make_app(plugins=[], extra_plugins=[one, two], strict_plugins=False)
    assert_failed(app, "two", "registration failed")


# ----------------------------------------------------------------------------- tracing
def test_trace_switch_logs_each_hook_call(make_app, temp_plugin, caplog, monkeypatch):
    monkeypatch.setenv("BACKHAUL_TRACE_HOOKS", "1")
    traced = temp_plugin("traced", permissions=lambda: [Permission("traced.x.view", "x")])
    with caplog.at_level(logging.INFO, logger="backhaul.hooks"):
        app = make_app(plugins=[], extra_plugins=[traced])
        app.extensions["backhaul.plugins"].call("search", query="ab", user=None, limit=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "backhaul.hooks"]
    assert any(line.startswith("hook permissions() -> plugin 'traced'") for line in lines)
    assert any(line.startswith("hook permissions() -> plugin 'core'") for line in lines)


def test_no_trace_by_default(make_app, temp_plugin, caplog):
    with caplog.at_level(logging.INFO, logger="backhaul.hooks"):
        make_app(plugins=[])
    assert not [r for r in caplog.records if r.name == "backhaul.hooks"]


def test_a_failing_hook_is_logged_with_the_plugin_name(make_app, temp_plugin, caplog):
    def search(query):
        raise ValueError("search index gone")

    flaky = temp_plugin("flaky", search=search)
    app = make_app(plugins=[], extra_plugins=[flaky])
    errors = []
    with caplog.at_level(logging.ERROR, logger="backhaul.plugins"):
        answers = app.extensions["backhaul.plugins"].call(
            "search", query="ab", user=None, limit=5,
            on_error=lambda plugin, exc: errors.append((plugin, str(exc))))
    assert ("flaky", "search index gone") in errors
    assert "flaky" not in [plugin for plugin, _ in answers]
    assert "plugin 'flaky' raised in hook search" in caplog.text


def test_a_hook_whose_publisher_is_not_enabled_answers_nothing(make_app):
    from backhaul.sdk import call_hook

    app = make_app(plugins=[])
    with app.app_context():
        assert call_hook("example_greeting_suffix", name="x") == []


def _raise(*_args):
    raise RuntimeError("contribution exploded")


FAILING_BASES = {
    "import error": None,  # a real distribution whose module cannot be imported
    "missing dependency": dict(meta=PluginMeta("base", depends_on=("nowhere",))),
    "SDK range": dict(meta=PluginMeta("base", requires_sdk=">=9")),
    "registration": dict(search=lambda query, colour: []),
    "contribution": dict(permissions=_raise),
    "duplicate key": dict(permissions=lambda: [Permission("core.plugins.view", "again")]),
}


@pytest.mark.parametrize("kind", sorted(FAILING_BASES))
def test_dependents_of_a_failed_plugin_fail_too(kind, make_app, temp_plugin, monkeypatch,
                                                tmp_path):
    extra = []
    if FAILING_BASES[kind] is None:
        install_fake_distribution(monkeypatch, tmp_path, "base", BROKEN_IMPORT)
    else:
        extra.append(temp_plugin("base", **FAILING_BASES[kind]))
    child = temp_plugin("child", meta=PluginMeta("child", depends_on=("base",)),
                        permissions=lambda: [Permission("child.thing.view", "x")])
    grandchild = temp_plugin("grandchild", meta=PluginMeta("grandchild",
                                                           depends_on=("child",)))
    plugins = ["base"] if FAILING_BASES[kind] is None else []
    app = make_app(plugins=plugins, extra_plugins=[*extra, child, grandchild],
                   strict_plugins=False)
    assert row(app, "base")["status"] == "failed"
    assert_failed(app, "child", "needs plugin 'base', which failed")
    assert_failed(app, "grandchild", "needs plugin 'child', which failed")
    assert "child.thing.view" not in {p.name for p in
                                      app.extensions["backhaul.contributions"].permissions}
    with pytest.raises(PluginLoadError, match="plugin 'base' failed"):
        make_app(plugins=plugins, extra_plugins=[*extra, child, grandchild],
                 strict_plugins=True)


def test_a_plugin_failing_in_a_later_start_up_phase_leaves_nothing_behind(
        make_app, temp_plugin, staff_user, login):
    """GraphQL is assembled after the contributions: when it refuses a plugin's schema, the
    plugin fails then, its contributions are forgotten and its pages answer 503."""
    from ariadne import QueryType
    from flask import Blueprint

    from backhaul.sdk import GraphQLContribution

    def register_blueprints(app):
        bp = Blueprint("late", __name__, url_prefix="/late")
        bp.get("/")(lambda: "late page")
        return [bp]

    late = temp_plugin(
        "late", register_blueprints=register_blueprints,
        permissions=lambda: [Permission("late.thing.view", "x")],
        graphql_schema=lambda: GraphQLContribution(
            "extend type Query { lateField: String }", (QueryType(),)))  # no permission
    app = make_app(plugins=[], extra_plugins=[late], strict_plugins=False)
    assert_failed(app, "late", "GraphQL")
    contributions = app.extensions["backhaul.contributions"]
    assert "late.thing.view" not in {p.name for p in contributions.permissions}
    with app.app_context():
        client = app.test_client()
        login(client, staff_user())
        response = client.get("/late/")
    assert response.status_code == 503 and "late page" not in response.get_data(True)


def test_a_submodule_named_like_a_hook_fails_the_plugin_with_a_clear_reason(make_app):
    import types

    from backhaul.sdk import PluginMeta

    package = types.ModuleType("shadowing_plugin")
    package.META = PluginMeta(name="shadowing", description="has a permissions submodule")
    package.permissions = types.ModuleType("shadowing_plugin.permissions")
    app = make_app(extra_plugins=[package], strict_plugins=False)
    record = app.extensions["backhaul.plugins"].records["shadowing"]
    assert record.status == "failed"
    assert "submodule 'permissions'" in record.reason and "rename" in record.reason


def test_an_opt_in_plugin_is_installed_but_enabled_only_when_named(backhaul_base_config,
                                                                  _backhaul_migrated):
    """The example plugin must not greet customers on a production install ("all")."""
    from backhaul.core.app import create_app

    everything = create_app({**backhaul_base_config, "PLUGINS": "all"})
    records = everything.extensions["backhaul.plugins"].records
    assert records["example"].status == "disabled" and "opt-in" in records["example"].reason
    assert records["billing"].status == "enabled"
    named = create_app({**backhaul_base_config, "PLUGINS": ["example"]})
    assert named.extensions["backhaul.plugins"].is_enabled("example")

