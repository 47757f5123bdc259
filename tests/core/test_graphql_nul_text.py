"""Text holding NUL (U+0000) is refused at the GraphQL edge, before any resolver: PostgreSQL
cannot store or compare it, and it reached search filters and names as INTERNAL_ERROR
(found by the fuzzer, e.g. ``accounts(filter: {search: "\\u0000"})``)."""
from __future__ import annotations

import json

import pytest

from backhaul.core.graphql.text import nul_in_variables


@pytest.fixture
def client_and_token(make_app, staff_user, api_token):
    app = make_app(plugins=[])
    with app.app_context():
        token = api_token(staff_user(["accounts.account.view"]), "full")
        yield app.test_client(), token


def _post(client, token, body):
    response = client.post("/graphql", data=json.dumps(body), content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def test_nul_in_a_variable_is_a_400_naming_the_variable(client_and_token):
    client, token = client_and_token
    status, body = _post(client, token, {
        "query": "query($f: AccountFilter) { accounts(filter: $f) { totalCount } }",
        "variables": {"f": {"search": "ab\x00c"}}})
    assert status == 400
    [error] = body["errors"]
    assert "f.search" in error["message"] and "NUL" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_nul_in_a_literal_is_a_validation_error_at_its_place(client_and_token):
    client, token = client_and_token
    status, body = _post(client, token, {
        "query": '{ accounts(filter: {search: "x\\u0000"}) { totalCount } }'})
    assert status == 400
    [error] = body["errors"]
    assert "NUL" in error["message"] and error["locations"][0]["line"] == 1
    assert "INTERNAL" not in json.dumps(body)


def test_ordinary_text_still_runs(client_and_token):
    client, token = client_and_token
    status, body = _post(client, token, {
        "query": "query($f: AccountFilter) { accounts(filter: $f) { totalCount } }",
        "variables": {"f": {"search": "Ünïcode \\u0000 as text, tab\there"}}})
    assert status == 200 and body["data"]["accounts"]["totalCount"] == 0


def test_the_path_finder_walks_lists_and_keys():
    assert nul_in_variables({"a": [{"b": "ok"}, {"b": "bad\x00"}]}) == "a.1.b"
    assert nul_in_variables({"input": {"k\x00": 1}}) == "input.k\x00"
    assert nul_in_variables({"a": ["x", 1, None, {"y": "z"}]}) is None
    assert nul_in_variables(None) is None
