"""Text holding NUL (U+0000) is the client's mistake, never an INTERNAL_ERROR: PostgreSQL
cannot store or compare it, and a search filter that passed it on answered "Internal error"
(found by the fuzzer: ``accounts(filter: {search: "\\u0000"})``). Plugins that check their
input still answer with their own field errors; anything else gets BAD_USER_INPUT at the
field's path."""
from __future__ import annotations

import pytest

from backhaul.core.graphql.text import is_nul_in_text


@pytest.fixture
def client_and_token(make_app, staff_user, api_token):
    app = make_app(plugins=[])
    with app.app_context():
        token = api_token(staff_user(["accounts.account.view"]), "full")
        yield app.test_client(), token


def _post(client, token, body):
    response = client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


@pytest.mark.parametrize("body", [
    {"query": "query($f: AccountFilter) { accounts(filter: $f) { totalCount } }",
     "variables": {"f": {"search": "ab\x00c"}}},
    {"query": '{ accounts(filter: {search: "x\\u0000"}) { totalCount } }'},
    {"query": '{ account(number: "A\\u0000") { id } }'},
])
def test_nul_in_text_is_a_user_error_at_its_field(client_and_token, body):
    client, token = client_and_token
    status, answer = _post(client, token, body)
    if "postgresql" not in client.application.config["DATABASE_URL"]:
        assert status == 200 and "errors" not in answer, "SQLite stores NUL: no error at all"
        return
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "NUL" in error["message"] and error["path"][0] in ("accounts", "account")


def test_ordinary_text_still_runs(client_and_token):
    client, token = client_and_token
    status, body = _post(client, token, {
        "query": "query($f: AccountFilter) { accounts(filter: $f) { totalCount } }",
        "variables": {"f": {"search": "Ünïcode \\u0000 as text, tab\there"}}})
    assert status == 200 and body["data"]["accounts"]["totalCount"] == 0


def test_only_the_drivers_nul_refusal_is_recognised():
    import psycopg
    import sqlalchemy.exc

    refused = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    wrapped = sqlalchemy.exc.DataError("SELECT 1", {}, refused)
    assert is_nul_in_text(refused) and is_nul_in_text(wrapped)
    assert not is_nul_in_text(psycopg.DataError("numeric field overflow"))
    assert not is_nul_in_text(ValueError("NUL (0x00)"))
    assert not is_nul_in_text(None)
