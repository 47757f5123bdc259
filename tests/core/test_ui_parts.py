"""The shell's parts as plain functions: navigation, search merging, panels, field errors."""
from __future__ import annotations

import logging

import pytest

from backhaul.core.plugins import Plugins
from backhaul.core.ui import cell, field_errors, initials
from backhaul.core.ui.nav import build_nav
from backhaul.core.ui.panels import rendered_panels
from backhaul.core.ui.search import run_search
from backhaul.sdk import AccountPanel, MenuItem, SearchResult

ITEMS = [
    MenuItem("Plugins", "core_ui.plugins", "core.plugins.view", section="Admin", order=90),
    MenuItem("Users", "auth.users", "auth.user.view", section="Admin", order=10),
    MenuItem("Accounts", "accounts.index", "accounts.account.view", section="Customers"),
    MenuItem("Invoices", "billing.invoices", "billing.invoice.view", section="Billing"),
    MenuItem("Dashboard", "core_ui.dashboard", None, section="Main", order=0),
    MenuItem("Tickets", "tickets.index", None, section="Support"),
    MenuItem("Gone", "gone.index", None, section="Zebra"),
    MenuItem("Maps", "maps.index", None, section="Field"),
]
URLS = {"core_ui.plugins": "/plugins", "auth.users": "/auth/users", "accounts.index": "/accounts/",
        "billing.invoices": "/billing/invoices", "core_ui.dashboard": "/",
        "tickets.index": "/tickets/", "maps.index": "/maps/"}


def nav(permissions, path="/", endpoint=None):
    return build_nav(ITEMS, permissions.__contains__, URLS.get, path, endpoint)


def titles(sections):
    return [(s.title, [link.label for link in s.links]) for s in sections]


def test_nav_is_filtered_by_permission_and_grouped_in_section_order():
    assert titles(nav({"core.plugins.view", "accounts.account.view"})) == [
        ("Main", ["Dashboard"]), ("Customers", ["Accounts"]), ("Support", ["Tickets"]),
        ("Field", ["Maps"]), ("Admin", ["Plugins"])]
    assert titles(nav(set())) == [("Main", ["Dashboard"]), ("Support", ["Tickets"]),
                                  ("Field", ["Maps"])]
    everything = {i.permission for i in ITEMS if i.permission}
    assert titles(nav(everything))[-1] == ("Admin", ["Users", "Plugins"])


def test_item_with_a_missing_endpoint_is_left_out():
    assert "Gone" not in str(titles(nav(set())))


def test_active_link_by_endpoint_or_longest_path_prefix():
    def active(sections):
        return [link.label for s in sections for link in s.links if link.active]

    perms = {"accounts.account.view", "billing.invoice.view"}
    assert active(nav(perms, "/plugins", "core_ui.dashboard")) == ["Dashboard"]
    assert active(nav(perms, "/accounts/42/edit", "accounts.show")) == ["Accounts"]
    assert active(nav(perms, "/billing/invoices/7", "billing.show")) == ["Invoices"]
    assert active(nav(perms, "/elsewhere", "x.y")) == []  # "/" is not everyone's prefix


def test_initials_and_cells():
    assert initials("Ada Lovelace") == "AL" and initials("ops@isp.example") == "OI"
    assert initials("") == "?"
    assert cell({"a": 1}, "a") == 1

    class Obj:
        b = 2
    assert cell(Obj(), "b") == 2 and cell(Obj(), "zz") == ""


def test_field_errors_shapes():
    assert field_errors(None, "x") == []
    assert field_errors({"x": ["a", "b"]}, "x") == ["a", "b"]
    assert field_errors({"x": {"0": ["bad item"]}}, "x") == ["bad item"]
    assert field_errors({"addr": {"city": ["Required."]}}, "addr.city") == ["Required."]
    assert field_errors(["one"], "x") == ["one"] and field_errors("only", "x") == ["only"]


# ---------------------------------------------------------------------------- panels
class Account:
    id = 7
    name = "Ann"


def good(account):
    return f"<p>Balance of {account.name}</p>"


def bad(account):
    raise RuntimeError("database on fire")


def test_panels_filtered_ordered_and_failures_contained(caplog):
    owned = [("billing", AccountPanel("billing.balance", "Balance", good, "billing.view", 20)),
             ("tickets", AccountPanel("tickets.open", "Tickets", bad, None, 10)),
             ("secret", AccountPanel("secret.x", "Secret", good, "secret.view", 5))]
    with caplog.at_level(logging.ERROR, logger="backhaul.ui"):
        panels = rendered_panels(Account(), owned, {"billing.view"}.__contains__)
    assert [(p.key, p.plugin, p.failed) for p in panels] == [
        ("tickets.open", "tickets", True), ("billing.balance", "billing", False)]
    assert str(panels[1].html) == "<p>Balance of Ann</p>"
    assert "tickets.open" in caplog.text and "'tickets'" in caplog.text
    assert "database on fire" in caplog.text  # the traceback is logged, never shown


# ---------------------------------------------------------------------------- search
@pytest.fixture
def plugins(temp_plugin):
    """A plugin manager with in-test search plugins (no app needed: search is plain code)."""
    hits = temp_plugin("hits", search=lambda query, limit: [
        SearchResult(f"Account {query}", "/accounts/1", "account", score=0.5),
        SearchResult("Invoice 9", "/billing/9", "invoice", score=0.9)][:limit])
    more = temp_plugin("more", search=lambda query: [
        SearchResult("Device core-1", "/devices/1", "device", "10.0.0.1", score=0.7)])
    broken = temp_plugin("broken", search=lambda query: 1 / 0)
    wrong = temp_plugin("wrong", search=lambda query: [{"title": "not a SearchResult"}])
    silent = temp_plugin("silent", search=lambda query: None)
    return Plugins({"PLUGINS": [], "EXTRA_PLUGINS": [hits, more, broken, wrong, silent]}).load()


def test_search_merges_by_score_and_contains_failures(plugins):
    outcome = run_search(plugins, "  ann  ", user=None)
    assert outcome.query == "ann"
    assert [(p, r.title) for p, r in outcome.results] == [
        ("hits", "Invoice 9"), ("more", "Device core-1"), ("hits", "Account ann")]
    assert outcome.failed == ["broken", "wrong"]


def test_search_needs_two_characters_and_limits(plugins):
    assert run_search(plugins, "a", None).too_short
    assert not run_search(plugins, "", None).too_short
    assert run_search(plugins, "a", None).results == []
    assert len(run_search(plugins, "ann", None, per_plugin=1).results) == 2
    assert len(run_search(plugins, "ann", None, limit=1).results) == 1
