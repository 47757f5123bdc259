"""Walking a GraphQL connection page by page, for the connection tests of the network,
inventory, poller, radius and usage plugins (on the path through pyproject's pythonpath)."""
from __future__ import annotations

import json


def gql(app, token, query, variables=None) -> dict:
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _args(args: str, filter_: dict | None, sort: str | None, first: int, after) -> str:
    parts = [args] if args else []
    if filter_ is not None:
        # GraphQL input literal: keys bare, values as JSON (strings, numbers, booleans)
        parts.append("filter: {" + ", ".join(f"{k}: {json.dumps(v)}"
                                             for k, v in filter_.items()) + "}")
    if sort is not None:
        parts.append(f"sort: {json.dumps(sort)}")
    parts.append(f"first: {first}")
    if after is not None:
        parts.append(f"after: {json.dumps(after)}")
    return ", ".join(parts)


def walk(app, token, field: str, key: str, *, args: str = "", filter_: dict | None = None,
         sort: str | None = None, first: int = 2) -> list:
    """Every node's ``key`` over all pages of ``first``; checks totalCount and pageInfo."""
    seen, after, pages = [], None, 0
    while True:
        query = (f"{{ {field}({_args(args, filter_, sort, first, after)}) {{ totalCount "
                 f"pageInfo {{ hasNextPage endCursor }} edges {{ cursor }} nodes {{ {key} }} }} }}")
        got = gql(app, token, query)
        assert not got.get("errors"), got
        page = got["data"][field]
        seen += [n[key] for n in page["nodes"]]
        pages += 1
        assert len(page["edges"]) == len(page["nodes"]) <= first
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["nodes"]) == first
        after = page["pageInfo"]["endCursor"]
        assert pages < 50, "the walk does not end"
    assert page["totalCount"] == len(seen), (page["totalCount"], seen)
    return seen


def refused_sort(app, token, field: str, key: str, args: str = "") -> str:
    """The error message for an unknown sort key (asserts there is one and no data)."""
    got = gql(app, token, f"{{ {field}({_args(args, None, 'nope', 5, None)}) "
                          f"{{ nodes {{ {key} }} }} }}")
    assert got.get("errors") and got.get("data") is None, got
    message = got["errors"][0]["message"]
    assert "Cannot sort by 'nope'" in message, message
    return message


def statements(app, token, query) -> int:
    """How many SQL statements answering ``query`` costs (the token's bookkeeping included:
    compare two runs of the same query, never against a fixed number)."""
    import sqlalchemy as sa

    from backhaul.sdk import db

    count = 0

    def before(*_a):
        nonlocal count
        count += 1
    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        got = gql(app, token, query)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    assert not got.get("errors"), got
    return count
