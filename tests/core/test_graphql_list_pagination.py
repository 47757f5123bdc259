"""``paginate_list`` (connections over in-memory lists) and ``sort_order`` (published sort
keys): pages walk every item exactly once, cursors from another order are refused, and an
unknown sort key is an error naming the keys a client may use."""
from __future__ import annotations

import pytest

from backhaul.sdk.graphql import GraphQLUserError, paginate_list, sort_order

ITEMS = [{"name": n, "size": s} for n, s in
         [("delta", 4), ("alpha", 9), ("echo", 1), ("bravo", 7), ("charlie", 7)]]
SORTS = {"name": lambda r: r["name"], "-name": lambda r: r["name"],
         "size": lambda r: (r["size"], r["name"]), "-size": lambda r: (r["size"], r["name"])}


def _walk(first, sort):
    seen, after = [], None
    while True:
        page = paginate_list(ITEMS, first, after, sort, SORTS, "name")
        assert page.totalCount == 5
        seen += [r["name"] for r in page.nodes]
        if not page.pageInfo["hasNextPage"]:
            return seen
        after = page.pageInfo["endCursor"]


@pytest.mark.parametrize("first", [1, 2, 3, 5, 7])
def test_pages_walk_every_item_once_in_order(first):
    assert _walk(first, None) == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert _walk(first, "-name") == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert _walk(first, "size") == ["echo", "delta", "bravo", "charlie", "alpha"]


def test_first_page_flags_and_empty_page():
    page = paginate_list(ITEMS, 2, None, "name", SORTS)
    assert page.pageInfo["hasPreviousPage"] is False and page.pageInfo["hasNextPage"] is True
    second = paginate_list(ITEMS, 2, page.pageInfo["endCursor"], "name", SORTS)
    assert second.pageInfo["hasPreviousPage"] is True
    assert paginate_list(ITEMS, 0).nodes == []


def test_cursor_of_another_order_or_forged_is_refused():
    cursor = paginate_list(ITEMS, 2, None, "name", SORTS).pageInfo["endCursor"]
    with pytest.raises(GraphQLUserError):
        paginate_list(ITEMS, 2, cursor, "-name", SORTS)
    for bad in ("nonsense", "eyJrIjpbIiNsaXN0IiwibmFtZSJdLCJ2IjpbInh4IiwibmFtZSJdfQ"):
        with pytest.raises(GraphQLUserError):
            paginate_list(ITEMS, 2, bad, "name", SORTS)


def test_unknown_sort_and_page_size_are_refused():
    with pytest.raises(GraphQLUserError, match="use one of name, -name, size, -size"):
        paginate_list(ITEMS, 2, None, "colour", SORTS)
    with pytest.raises(GraphQLUserError, match="'first' must be between 0 and"):
        paginate_list(ITEMS, 10_000)
    with pytest.raises(GraphQLUserError, match="use one of a, -a"):
        sort_order("b", {"a": 1, "-a": 2}, "a")
    assert sort_order(None, {"a": 1, "-a": 2}, "-a") == 2
