"""Meta-tests on the hook specifications: each is documented with its exact signature, and
the published reference (docs/hooks.md, ``backhaul hooks``) is generated from them."""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pluggy
import pytest

from backhaul.core import hookdocs, hookspecs
from backhaul.plugins.example import hookspecs as example_hookspecs
from backhaul.sdk.testing import run_cli

ROOT = Path(__file__).resolve().parents[2]
MARKER = "backhaul_spec"


def specs_of(namespace) -> dict:
    return {name: func for name, func in vars(namespace).items()
            if callable(func) and hasattr(func, MARKER)}


CORE_SPECS = specs_of(hookspecs)
PUBLISHED = {**CORE_SPECS, **specs_of(example_hookspecs)}


def test_there_are_hookspecs_and_the_marker_is_right():
    assert len(CORE_SPECS) >= 20
    assert pluggy.HookspecMarker(hookspecs.PROJECT).project_name == "backhaul"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_parameter_is_documented(name):
    func = PUBLISHED[name]
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in doc, f"{name}: document ':param {param}:'"
    documented = set(re.findall(r":param (\w+):", doc))
    assert documented <= set(inspect.signature(func).parameters), \
        f"{name} documents parameters it does not have: {documented}"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_hook_says_when_it_is_called(name):
    doc = inspect.getdoc(PUBLISHED[name])
    assert "Called" in doc, f"{name}: say when the core calls it ('Called once at start-up')"


@pytest.mark.parametrize("name", sorted(set(hookspecs.CONTRIBUTIONS) - {"load_demo_data", "startup"}
                                        | set(hookspecs.EXTENSION_POINTS)))
def test_contribution_hooks_say_what_they_return(name):
    assert ":returns:" in inspect.getdoc(CORE_SPECS[name])


@pytest.mark.parametrize("name", hookspecs.EVENTS)
def test_events_are_called_after_commit_and_receive_the_app(name):
    doc = inspect.getdoc(CORE_SPECS[name])
    assert "after commit" in doc
    assert next(iter(inspect.signature(CORE_SPECS[name]).parameters)) == "app"


def test_every_hookspec_is_in_exactly_one_group():
    groups = [*hookspecs.CONTRIBUTIONS, *hookspecs.EXTENSION_POINTS, *hookspecs.EVENTS]
    assert sorted(groups) == sorted(CORE_SPECS), "list each hook in one group of hookspecs.py"
    assert len(groups) == len(set(groups))


def test_published_hooks_are_namespaced_by_their_plugin():
    for name in specs_of(example_hookspecs):
        assert name.startswith("example_")


# ----------------------------------------------------------------------------- the reference
def test_docs_hooks_md_is_generated_from_the_specs():
    expected = hookdocs.markdown(hookdocs.collect_specs())
    actual = (ROOT / "docs" / "hooks.md").read_text()
    assert actual == expected, ("docs/hooks.md is out of date: regenerate it with "
                                "`backhaul hooks --format markdown --core > docs/hooks.md`")


def test_the_reference_shows_each_exact_signature():
    text = (ROOT / "docs" / "hooks.md").read_text()
    for name, func in CORE_SPECS.items():
        args = ", ".join(inspect.signature(func).parameters)
        assert f"### `{name}({args})`" in text


def test_backhaul_hooks_command(make_app):
    app = make_app(plugins=["example"])
    markdown = run_cli(app, "hooks", "--format", "markdown", "--core").output
    assert markdown == (ROOT / "docs" / "hooks.md").read_text()
    rows = json.loads(run_cli(app, "hooks", "--format", "json").output)
    by_name = {row["name"]: row for row in rows}
    assert by_name["search"]["signature"] == "search(query, user, limit)"
    assert by_name["search"]["group"] == "contribution"
    assert by_name["payment_received"]["group"] == "event"
    # hooks published by enabled plugins are listed with their publisher
    assert by_name["example_greeting_suffix"]["group"] == "published by 'example'"
    text = run_cli(app, "hooks").output
    assert "account_created(app, account_id)  [event]" in text


def test_readme_points_plugin_authors_at_the_reference():
    readme = (ROOT / "README.md").read_text()
    assert "docs/hooks.md" in readme
