"""Connections: cursor pagination with totalCount, filters, and batched loading that keeps
the number of SQL statements constant whatever the page size."""
from __future__ import annotations

import pytest
from graphql_helpers import (
    CALLS,
    Maker,
    Part,
    Widget,
    bearer,
    count_statements,
    gql,
    tst_app_fixture,
)

from backhaul.core.db import db


@pytest.fixture
def tst_app(make_app, temp_plugin):
    yield from tst_app_fixture(make_app, temp_plugin)


PAGE = """query($first: Int, $after: String, $filter: TstWidgetFilter, $sort: String) {
  tstWidgets(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name maker { id name } parts { id label } } }
  }
}"""


def _seed(widgets: int = 60, makers: int = 12) -> None:
    db.session.add_all(Maker(id=m, name=f"maker {m}") for m in range(1, makers + 1))
    db.session.flush()
    db.session.add_all(Widget(id=i, name=f"widget {i:02d}", maker_id=(i % makers) + 1)
                       for i in range(1, widgets + 1))
    db.session.flush()
    for i in range(1, widgets + 1):
        db.session.add_all([Part(widget_id=i, label=f"{i}a"), Part(widget_id=i, label=f"{i}b")])
    db.session.commit()


@pytest.fixture
def reader(tst_app, staff_user, api_token):
    return bearer(api_token(staff_user(["tst.widget.view"]), "read"))


def test_nested_list_costs_constant_queries(tst_app, reader):
    _seed()
    client = tst_app.test_client()
    gql(client, "{ viewer { email } }", headers=reader)  # warm-up: token bookkeeping
    counts = {}
    for size in (5, 50):
        with count_statements(db.engine) as statements:
            response = gql(client, PAGE, {"first": size}, headers=reader)
        body = response.get_json()
        assert response.status_code == 200, body
        edges = body["data"]["tstWidgets"]["edges"]
        assert len(edges) == size
        assert all(e["node"]["maker"]["name"].startswith("maker") for e in edges)
        assert all(len(e["node"]["parts"]) == 2 for e in edges)
        counts[size] = len(statements)
    assert counts[5] == counts[50], counts


def test_loaders_batch_at_every_level(tst_app, reader):
    """widgets -> parts -> part.widget -> widget.maker: one query per level, any page size."""
    _seed()
    client = tst_app.test_client()
    query = """query($first: Int) { tstWidgets(first: $first) { edges { node {
        parts { label widget { name maker { name } } } } } } }"""
    gql(client, "{ viewer { email } }", headers=reader)
    counts = {}
    for size in (3, 40):
        with count_statements(db.engine) as statements:
            body = gql(client, query, {"first": size}, headers=reader).get_json()
        assert "errors" not in body
        parts = [p for e in body["data"]["tstWidgets"]["edges"] for p in e["node"]["parts"]]
        assert len(parts) == 2 * size and all(p["widget"]["maker"]["name"] for p in parts)
        counts[size] = len(statements)
    assert counts[3] == counts[40], counts


def test_pages_walk_the_whole_list_once(tst_app, reader):
    _seed(widgets=23)
    client = tst_app.test_client()
    seen, after, pages = [], None, 0
    while True:
        data = gql(client, PAGE, {"first": 10, "after": after}, headers=reader).get_json()
        connection = data["data"]["tstWidgets"]
        assert connection["totalCount"] == 23
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [int(e["node"]["id"]) for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
    assert pages == 3 and seen == list(range(1, 24))


def test_descending_sort_and_rows_added_between_pages(tst_app, reader):
    _seed(widgets=6)
    client = tst_app.test_client()
    first = gql(client, PAGE, {"first": 3, "sort": "-name"}, headers=reader).get_json()
    names = [e["node"]["name"] for e in first["data"]["tstWidgets"]["edges"]]
    assert names == ["widget 06", "widget 05", "widget 04"]
    db.session.add(Widget(id=100, name="widget 99", maker_id=1))  # sorts before the cursor
    db.session.commit()
    after = first["data"]["tstWidgets"]["pageInfo"]["endCursor"]
    second = gql(client, PAGE, {"first": 3, "after": after, "sort": "-name"},
                 headers=reader).get_json()
    names = [e["node"]["name"] for e in second["data"]["tstWidgets"]["edges"]]
    assert names == ["widget 03", "widget 02", "widget 01"]  # stable: no repeat, no skip


def test_filters_narrow_and_count(tst_app, reader):
    _seed(widgets=30, makers=3)
    client = tst_app.test_client()
    data = gql(client, PAGE, {"filter": {"makerId": "2", "nameContains": "WIDGET 1"}},
               headers=reader).get_json()
    ids = [int(e["node"]["id"]) for e in data["data"]["tstWidgets"]["edges"]]
    assert ids == [i for i in range(10, 20) if (i % 3) + 1 == 2]
    assert data["data"]["tstWidgets"]["totalCount"] == len(ids)
    # LIKE wildcards in a filter value are literal characters
    data = gql(client, PAGE, {"filter": {"nameContains": "%"}}, headers=reader).get_json()
    assert data["data"]["tstWidgets"]["totalCount"] == 0


@pytest.mark.parametrize("variables, message", [
    ({"first": 101}, "'first' must be between 0 and 100"),
    ({"first": -1}, "'first' must be between 0 and 100"),
    ({"after": "not-a-cursor"}, "'after' cursor is not valid"),
    ({"sort": "pin; drop table"}, "cannot sort by"),
])
def test_bad_paging_input_is_a_clear_client_error(tst_app, reader, variables, message):
    response = gql(tst_app.test_client(), PAGE, variables, headers=reader)
    body = response.get_json()
    assert response.status_code == 200
    assert body["data"] is None
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_cursor_from_another_sort_order_is_refused(tst_app, reader):
    _seed(widgets=4)
    client = tst_app.test_client()
    data = gql(client, PAGE, {"first": 2}, headers=reader).get_json()
    cursor = data["data"]["tstWidgets"]["pageInfo"]["endCursor"]
    body = gql(client, PAGE, {"first": 2, "after": cursor, "sort": "-name"},
               headers=reader).get_json()
    assert "'after' cursor is not valid" in body["errors"][0]["message"]


def test_total_count_is_only_counted_when_asked(tst_app, reader):
    _seed(widgets=3)
    client = tst_app.test_client()
    gql(client, "{ viewer { email } }", headers=reader)
    with count_statements(db.engine) as without:
        gql(client, "{ tstWidgets { edges { node { id } } } }", headers=reader)
    with count_statements(db.engine) as with_count:
        gql(client, "{ tstWidgets { totalCount edges { node { id } } } }", headers=reader)
    assert len(with_count) == len(without) + 1
    assert CALLS.count("tstWidgets") == 2
