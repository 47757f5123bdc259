"""The reviewed permission table (permission_table.py) and the code agree, and every
state-changing route and mutation declares a permission (issue 11).

The matrices (test_permission_matrix, test_graphql_permission_matrix) test behaviour against
the table; these tests say which side moved when they disagree.
"""
from __future__ import annotations

import pytest
from auth_probe import probe_plugin
from graphql_helpers import tst_plugin
from permission_table import GRAPHQL, ROUTES, STATE_CHANGING_WITHOUT_PERMISSION

from backhaul.core.auth.decorators import view_requirements
from backhaul.core.graphql.permissions import declared_permissions

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
#: mutations on one's own things, for any signed-in principal (reviewed)
MUTATIONS_WITHOUT_PERMISSION = {"createMyApiToken", "revokeMyApiToken", "setMyTimeZone"}


@pytest.fixture
def app(make_app, temp_plugin):
    return make_app(extra_plugins=[probe_plugin(), tst_plugin(temp_plugin)])


def actual_routes(app) -> dict[str, str]:
    out = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        needs = view_requirements(app.view_functions[rule.endpoint])
        value = needs["permission"] or ("@public" if needs["public"] else
                                        "@session" if needs["session_only"] else "@login")
        if needs["permission"] and needs["session_only"]:
            value += " @session"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out[f"{method} {rule.endpoint}"] = value
    return out


def _diff(actual: dict, pinned: dict) -> list[str]:
    lines = [f"{k}: code says {actual[k]!r}, table says {pinned[k]!r}"
             for k in sorted(set(actual) & set(pinned)) if actual[k] != pinned[k]]
    lines += [f"{k}: new ({actual[k]!r}) — review it and add it to permission_table.py"
              for k in sorted(set(actual) - set(pinned))]
    lines += [f"{k}: in the table but gone from the code" for k in sorted(set(pinned) -
                                                                             set(actual))]
    return lines


def test_routes_require_what_the_reviewed_table_says(app):
    problems = _diff(actual_routes(app), ROUTES)
    assert not problems, "\n".join(problems)


def test_graphql_fields_require_what_the_reviewed_table_says(app):
    schema = app.extensions["backhaul.graphql"].schema
    actual = {k: " ".join(v) or "@public" for k, v in declared_permissions(schema).items()
              if k.split(".")[0] in ("Query", "Mutation")}
    problems = _diff(actual, GRAPHQL)
    assert not problems, "\n".join(problems)


def test_every_state_changing_route_declares_a_permission():
    open_writes = {k for k, v in ROUTES.items()
                   if k.split()[0] in STATE_CHANGING and v.startswith("@")}
    unexplained = open_writes - set(STATE_CHANGING_WITHOUT_PERMISSION)
    assert not unexplained, f"state-changing routes without a permission: {unexplained}"


def test_every_mutation_declares_a_permission():
    open_mutations = {k.split(".")[1] for k, v in GRAPHQL.items()
                      if k.startswith("Mutation.") and v.startswith("@")}
    assert open_mutations <= MUTATIONS_WITHOUT_PERMISSION, open_mutations - \
        MUTATIONS_WITHOUT_PERMISSION


def test_the_void_route_is_pinned_to_the_void_permission():
    """The audit's example: this row must never silently change."""
    assert ROUTES["POST billing.invoice_void"] == "billing.invoice.void"
