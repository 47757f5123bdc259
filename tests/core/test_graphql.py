"""The /graphql endpoint: authentication, permissions, limits, errors, schema assembly."""
from __future__ import annotations

import dataclasses
import logging
import re

import pytest
from graphql_helpers import CALLS, SDL, Maker, bearer, gql, tst_app_fixture, tst_plugin

from backhaul.core.db import db
from backhaul.core.plugins import PluginLoadError
from backhaul.sdk import Permission
from backhaul.sdk.graphql import QueryType


@pytest.fixture
def tst_app(make_app, temp_plugin):
    yield from tst_app_fixture(make_app, temp_plugin)



@pytest.fixture
def viewer_token(tst_app, staff_user, api_token):
    return bearer(api_token(staff_user(["tst.widget.view"]), "full"))


# ------------------------------------------------------------------------- authentication
def test_viewer_through_token_and_session(tst_app, staff_user, api_token, login, csrf_token):
    user = staff_user(["tst.widget.view", "core.plugins.view"])
    client = tst_app.test_client()
    body = gql(client, "{ viewer { email kind readOnly permissions } }",
               headers=bearer(api_token(user, "read"))).get_json()
    assert body == {"data": {"viewer": {
        "email": user.email, "kind": "token", "readOnly": True,
        "permissions": ["core.plugins.view", "tst.widget.view"]}}}
    browser = tst_app.test_client()
    login(browser, user)
    response = gql(browser, "{ viewer { kind readOnly } }",
                   headers={"X-CSRFToken": csrf_token(browser)})
    assert response.get_json()["data"]["viewer"] == {"kind": "user", "readOnly": False}


def test_anonymous_is_refused_before_anything_runs(tst_app):
    response = gql(tst_app.test_client(), "{ tstEcho(text: \"hi\") }")
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert CALLS == []


def test_session_post_without_csrf_token_is_refused(tst_app, staff_user, login):
    browser = tst_app.test_client()
    login(browser, staff_user(["tst.widget.view"]))
    response = gql(browser, "{ tstEcho(text: \"hi\") }")
    assert response.status_code == 400 and response.get_json()["error"] == "csrf_failed"
    assert CALLS == []


# ------------------------------------------------------------------------- permissions
def test_missing_permission_refuses_the_field_only(tst_app, staff_user, api_token):
    user = staff_user(["core.plugins.view"])
    token = bearer(api_token(user, "full"))
    body = gql(tst_app.test_client(), "{ viewer { email } tstRefuse }", headers=token).get_json()
    assert body["data"] == {"viewer": {"email": user.email}, "tstRefuse": None}
    error = body["errors"][0]
    assert error["extensions"] == {"code": "FORBIDDEN", "permission": "tst.widget.view"}
    assert error["path"] == ["tstRefuse"]
    body = gql(tst_app.test_client(), '{ tstEcho(text: "x") }', headers=token).get_json()
    assert body["data"] is None  # a non-null field refused nulls its parent
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert CALLS == []  # the decorated resolver never ran


def test_field_level_requires_on_a_nested_field(tst_app, staff_user, api_token):
    db.session.add(Maker(id=1, name="m"))
    db.session.commit()
    from graphql_helpers import Widget

    db.session.add(Widget(id=1, name="w", maker_id=1, pin="0000"))
    db.session.commit()
    query = "{ tstWidgets { edges { node { name pin } } } }"
    plain = bearer(api_token(staff_user(["tst.widget.view"]), "full"))
    body = gql(tst_app.test_client(), query, headers=plain).get_json()
    assert body["errors"][0]["extensions"]["permission"] == "tst.widget.secret.view"
    secret = bearer(api_token(staff_user(["tst.widget.view", "tst.widget.secret.view"]),
                              "full"))
    body = gql(tst_app.test_client(), query, headers=secret).get_json()
    assert body == {"data": {"tstWidgets": {"edges": [{"node": {"name": "w", "pin": "0000"}}]}}}


def test_read_only_token_never_runs_a_mutation(tst_app, staff_user, api_token):
    user = staff_user(["tst.widget.view", "tst.widget.edit"])
    db.session.add(Maker(id=1, name="m"))
    db.session.commit()
    mutation = 'mutation { tstCreateWidget(name: "w", makerId: 1) { ok widget { id } } }'
    response = gql(tst_app.test_client(), mutation, headers=bearer(api_token(user, "read")))
    assert response.status_code == 403
    assert response.get_json()["errors"][0]["extensions"]["code"] == "READ_ONLY_TOKEN"
    assert CALLS == []
    response = gql(tst_app.test_client(), mutation, headers=bearer(api_token(user, "full")))
    assert response.get_json()["data"]["tstCreateWidget"]["ok"] is True
    assert CALLS == ["tstCreateWidget"]


def test_mutation_field_errors_roll_back_and_commit_otherwise(tst_app, staff_user, api_token):
    from graphql_helpers import Widget

    token = bearer(api_token(staff_user(["tst.widget.edit", "tst.widget.view"]), "full"))
    db.session.add(Maker(id=1, name="m"))
    db.session.commit()
    client = tst_app.test_client()
    bad = gql(client, 'mutation { tstCreateWidget(name: " ", makerId: 1) '
                      '{ ok errors { field messages } widget { id } } }', headers=token)
    assert bad.get_json()["data"]["tstCreateWidget"] == {
        "ok": False, "errors": [{"field": "name", "messages": ["Give the widget a name."]}],
        "widget": None}
    good = gql(client, 'mutation { tstCreateWidget(name: "ok", makerId: 1) { ok } }',
               headers=token)
    assert good.get_json()["data"]["tstCreateWidget"]["ok"] is True
    db.session.expire_all()
    assert [w.name for w in db.session.query(Widget)] == ["ok"]


# ------------------------------------------------------------------------- limits
DEEP = "{ tstNested { " + "child { " * 12 + "value" + " }" * 12 + " } }"


@pytest.mark.parametrize("query, limit", [
    (DEEP, "depth"),
    ("{ " + " ".join(f"a{i}: tstEcho(text: \"x\")" for i in range(31)) + " }", "alias"),
    ("{ viewer { " + "email " * 2100 + "} }", "token"),
    ("{ tstWidgets(first: 100) { edges { node { maker { widgets(first: 100) { edges { node "
     "{ id } } } } } } } }", "cost"),
])
def test_over_limit_queries_are_rejected_before_any_resolver(tst_app, viewer_token, query,
                                                             limit):
    response = gql(tst_app.test_client(), query, headers=viewer_token)
    body = response.get_json()
    assert response.status_code == 400, body
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == limit
    assert f"Query {limit} limit exceeded" in error["message"]
    assert CALLS == []


def test_cost_counts_first_from_variables_and_fragments(tst_app, viewer_token):
    query = """query($n: Int) { tstWidgets(first: $n) { ...W } }
               fragment W on TstWidgetConnection { edges { node { id name parts { label } } } }"""
    state = tst_app.extensions["backhaul.graphql"]
    state.limits = dataclasses.replace(state.limits, max_cost=300)
    client = tst_app.test_client()
    # each widget: edges + node + id + name + parts (a plain list: x10) { label } = 15
    response = gql(client, query, {"n": 100}, headers=viewer_token)  # 1 + 100 * 15
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["extensions"]["limit"] == "cost"
    assert CALLS == []
    assert gql(client, query, {"n": 10}, headers=viewer_token).status_code == 200  # 151


def test_plain_lists_multiply_too(tst_app, viewer_token):
    """Issue 11 #3: a list field without ``first`` counted as 1, so nested lists could
    return 1.5 M nodes to a read token. Now each nesting multiplies by the estimate."""
    state = tst_app.extensions["backhaul.graphql"]
    state.limits = dataclasses.replace(state.limits, max_cost=10_000)
    client = tst_app.test_client()
    shallow = "{ tstWidgets(first: 2) { edges { node { parts { label } } } } }"
    assert gql(client, shallow, headers=viewer_token).status_code == 200
    state.limits = dataclasses.replace(state.limits, max_cost=20)
    CALLS.clear()
    response = gql(client, shallow, headers=viewer_token)  # 1 + 2 * (1 + 1 + 1 + 10 * 1)
    assert response.status_code == 400 and CALLS == []


def test_limits_come_from_settings(make_app, temp_plugin, staff_user, api_token):
    app = make_app(plugins=[], extra_plugins=[tst_plugin(temp_plugin)], graphql_max_depth=3,
                   graphql_max_aliases=1)
    with app.app_context():
        token = bearer(api_token(staff_user(["tst.widget.view"]), "full"))
        client = app.test_client()
        ok = gql(client, "{ tstNested { child { value } } }", headers=token)
        assert ok.status_code == 200
        deep = gql(client, "{ tstNested { child { child { value } } } }", headers=token)
        assert deep.get_json()["errors"][0]["extensions"] == {
            "code": "LIMIT_EXCEEDED", "limit": "depth", "maximum": 3, "actual": 4}
        aliases = gql(client, '{ a: tstEcho(text: "1") b: tstEcho(text: "2") }', headers=token)
        assert "GRAPHQL_MAX_ALIASES" in aliases.get_json()["errors"][0]["message"]


def test_introspection_is_not_limited_by_depth(tst_app, viewer_token):
    from graphql import get_introspection_query

    response = gql(tst_app.test_client(), get_introspection_query(), headers=viewer_token)
    assert response.status_code == 200, response.get_json()
    types = {t["name"] for t in response.get_json()["data"]["__schema"]["types"]}
    assert {"TstWidget", "Money", "PageInfo", "DateTime"} <= types


# ------------------------------------------------------------------------- bad input, errors
@pytest.mark.parametrize("data, message", [
    ("{not json", "Malformed JSON body"),
    ("", "The body must be a JSON object"),
    ("[1, 2]", "batched requests are not supported"),
    ('{"query": 3}', "The body needs a 'query' string"),
    ('{"query": "{ viewer { email } }", "variables": [1]}', "'variables' must be a JSON object"),
    ('{"query": "{ viewer { email "}', "Syntax Error"),
    ('{"query": "{ nope }"}', "Cannot query field 'nope'"),
])
def test_malformed_requests_get_400_with_a_clear_message(tst_app, viewer_token, data, message):
    response = tst_app.test_client().post("/graphql", data=data, headers={
        **viewer_token, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert message in response.get_json()["errors"][0]["message"]
    assert CALLS == []


def test_unexpected_errors_are_masked_and_logged_with_an_id(tst_app, viewer_token, caplog):
    with caplog.at_level(logging.ERROR, logger="backhaul.graphql"):
        response = gql(tst_app.test_client(), "{ tstBoom viewer { email } }",
                       headers=viewer_token)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    error = response.get_json()["errors"][0]
    assert error["message"] == "Internal error"
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert response.get_json()["data"]["viewer"]["email"]  # the rest of the query answered
    logged = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged and logged[0].exc_info[0] is RuntimeError


def test_client_errors_keep_their_message(tst_app, viewer_token):
    body = gql(tst_app.test_client(), "{ tstRefuse }", headers=viewer_token).get_json()
    assert body["errors"][0]["message"] == "Nothing to see here."
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND"}


def test_bad_scalar_input_is_explained(tst_app, staff_user, api_token):
    token = bearer(api_token(staff_user(["audit.log.view"]), "full"))
    query = "query($f: AuditEntryFilter) { auditEntries(filter: $f) { totalCount } }"
    naive = gql(tst_app.test_client(), query, {"f": {"from": "2026-01-01T00:00:00"}},
                headers=token)
    assert naive.status_code == 400 and "data" not in naive.get_json()
    assert "has no UTC offset" in naive.get_json()["errors"][0]["message"]
    later = gql(tst_app.test_client(), query, {"f": {"from": "2999-01-01T00:00:00Z"}},
                headers=token)
    assert later.get_json() == {"data": {"auditEntries": {"totalCount": 0}}}
    earlier = gql(tst_app.test_client(), query, {"f": {"from": "2000-01-01T00:00:00+02:00"}},
                  headers=token)
    assert earlier.get_json()["data"]["auditEntries"]["totalCount"] > 0


# ------------------------------------------------------------------------- explorer
def test_explorer_for_staff_with_the_permission(tst_app, staff_user, login):
    allowed, refused = tst_app.test_client(), tst_app.test_client()
    login(allowed, staff_user(["core.graphql.explore"]))
    login(refused, staff_user(["tst.widget.view"]))
    page = allowed.get("/graphql")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<h1 class="page-title">GraphQL explorer</h1>' in html
    assert 'id="gx-query"' in html and 'id="gx-variables"' in html and 'id="gx-run"' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)
    posted = gql(allowed, "{ viewer { kind } }", headers={"X-CSRFToken": token})
    assert posted.get_json() == {"data": {"viewer": {"kind": "user"}}}  # as the explorer sends it
    assert refused.get("/graphql").status_code == 403
    anonymous = tst_app.test_client().get("/graphql", headers={"Accept": "text/html"})
    assert anonymous.status_code in (302, 401)


def test_explorer_loads_nothing_from_another_host(tst_app, staff_user, login):
    """The page must work offline: every script and stylesheet is served by this app."""
    browser = tst_app.test_client()
    login(browser, staff_user(["core.graphql.explore"]))
    html = browser.get("/graphql").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all(re.search(r'\ssrc="/', attrs) for attrs in scripts)  # none inline
    styles = re.findall(r'<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    assert "/graphql/static/explorer.css" in styles and all(h.startswith("/") for h in styles)
    assert not re.search(r'(?:src|href)="//', html)
    assert not re.search(r"<style\b|\sstyle=", html)
    hosts = set(re.findall(r"https?://([^/\"'\s<>]+)", html))
    assert hosts <= {"localhost"}, f"the explorer refers to other hosts: {hosts}"
    for asset in ("/graphql/static/explorer.js", "/graphql/static/explorer.css"):
        response = browser.get(asset)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and len(text) > 1000
        assert not re.search(r"https?://|@import|\bimport\(|\beval\(|new Function", text)


# ------------------------------------------------------------------------- schema assembly
def _status(app, name):
    record = app.extensions["backhaul.plugins"].records[name]
    return record.status, record.reason


def test_root_field_without_permission_fails_its_plugin(make_app, temp_plugin):
    sdl = 'extend type Query { leakyThing: String }'
    leaky = tst_plugin(temp_plugin, sdl=sdl, bindables=(), name="leaky", permissions=[])
    good = tst_plugin(temp_plugin)
    app = make_app(plugins=[], extra_plugins=[leaky, good], strict_plugins=False)
    status, reason = _status(app, "leaky")
    assert status == "failed"
    assert "Query.leakyThing declare no permission" in reason and "@requires" in reason
    schema = app.extensions["backhaul.graphql"].schema
    assert "leakyThing" not in schema.query_type.fields
    assert "tstWidgets" in schema.query_type.fields  # the others are served
    with pytest.raises(PluginLoadError, match="leakyThing"):
        make_app(plugins=[], extra_plugins=[leaky])


@pytest.mark.parametrize("sdl, expected", [
    ("extend type Query { x: String @requires(permission: \"bad.perm.view\") }",
     "undeclared permission 'bad.perm.view'"),
    ("extend type Query { x: String @public } type Broken {", "does not parse"),
    ("extend type Query { viewer: String @public }", "viewer"),
    ("extend type Mutation { doIt: Boolean @requires(permission: \"bad.x.edit\") }",
     "undeclared permission 'bad.x.edit'"),
])
def test_broken_contributions_fail_their_plugin_only(make_app, temp_plugin, sdl, expected):
    broken = tst_plugin(temp_plugin, sdl=sdl, bindables=(), name="broken",
                        permissions=[Permission("broken.x.view", "x")])
    app = make_app(plugins=[], extra_plugins=[broken], strict_plugins=False)
    status, reason = _status(app, "broken")
    assert status == "failed" and expected in reason
    assert "viewer" in app.extensions["backhaul.graphql"].schema.query_type.fields


def test_a_contribution_built_on_a_refused_one_is_refused_too(make_app, temp_plugin):
    base = tst_plugin(temp_plugin, name="base", bindables=(), permissions=[], sdl="""
        type BaseThing { id: ID! }
        extend type Query { baseThing: BaseThing @requires(permission: "nobody.declared.this") }""")
    addon = tst_plugin(temp_plugin, name="addon", bindables=(), permissions=[], sdl="""
        extend type BaseThing { extra: String }
        extend type Query { addonHello: String @public }""")
    app = make_app(plugins=[], extra_plugins=[base, addon, tst_plugin(temp_plugin)],
                   strict_plugins=False)
    assert _status(app, "base")[0] == "failed"
    status, reason = _status(app, "addon")
    assert status == "failed" and "BaseThing" in reason
    assert "tstWidgets" in app.extensions["backhaul.graphql"].schema.query_type.fields


def test_bindable_for_a_missing_field_fails_its_plugin(make_app, temp_plugin):
    query = QueryType()
    query.set_field("notInTheSdl", lambda *_: "x")
    broken = tst_plugin(temp_plugin, sdl="extend type Query { y: String @public }",
                        bindables=(query,), name="broken", permissions=[])
    app = make_app(plugins=[], extra_plugins=[broken, tst_plugin(temp_plugin)],
                   strict_plugins=False)
    status, reason = _status(app, "broken")
    assert status == "failed" and "notInTheSdl" in reason
    assert "tstWidgets" in app.extensions["backhaul.graphql"].schema.query_type.fields


def test_decorated_resolver_counts_as_a_permission(tst_app):
    schema = tst_app.extensions["backhaul.graphql"].schema
    from backhaul.core.graphql.permissions import declared_permissions

    declared = declared_permissions(schema)
    assert declared["Query.tstEcho"] == ("tst.widget.view",)
    assert declared["TstWidget.pin"] == ("tst.widget.secret.view",)
    assert declared["Query.viewer"] == ()
    assert "Mutation.tstCreateWidget" in declared
    assert SDL  # the helper's SDL is what is served


def test_core_types_and_type_level_requires_run_without_flask():
    """The schema builder and executor are plain functions: no app, no request needed."""
    from datetime import UTC, date, datetime
    from types import SimpleNamespace

    from backhaul.core.auth.identity import Principal
    from backhaul.core.graphql.execution import Context, run
    from backhaul.core.graphql.limits import Limits
    from backhaul.core.graphql.schema import build
    from backhaul.sdk import GraphQLContribution, Money

    sdl = """
    type TstInvoice @requires(permission: "tst.invoice.view") {
      total: Money!
      issuedAt: DateTime!
      day: Date!
      meta: JSON
    }
    extend type Query { tstInvoice(since: DateTime): TstInvoice @public }
    """
    query = QueryType()
    seen = []

    @query.field("tstInvoice")
    def resolve(_obj, _info, since=None):
        seen.append(since)
        return {"total": Money(123456, "EUR"), "day": date(2026, 1, 2), "meta": {"a": [1]},
                "issuedAt": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}

    schema = build([("tst", GraphQLContribution(sdl, (query,)))])
    request = {"query": '{ tstInvoice(since: "2026-01-01T01:00:00+01:00") '
                        "{ total { amount currency formatted } issuedAt day meta } }"}
    user = SimpleNamespace(email="a@example.test", name="A")
    allowed = Principal(user=user, permissions=frozenset({"tst.invoice.view"}))
    status, body, _ = run(schema, request, Context(allowed), Limits())
    assert status == 200 and body == {"data": {"tstInvoice": {
        "total": {"amount": 123456, "currency": "EUR", "formatted": "1,234.56 EUR"},
        "issuedAt": "2026-01-02T03:04:05+00:00", "day": "2026-01-02", "meta": {"a": [1]}}}}
    assert seen == [datetime(2026, 1, 1, 0, 0, tzinfo=UTC)]
    status, body, _ = run(schema, request, Context(Principal(user=user)), Limits())
    assert body["data"] == {"tstInvoice": None}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    status, body, _ = run(schema, request, Context(Principal()), Limits())
    assert status == 401 and "data" not in body
