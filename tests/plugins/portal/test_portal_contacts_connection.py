"""``portalContacts`` as a connection (issue 21): pages, totalCount, filters, sorts, an unknown
sort key refused, and the contacts' logins loaded in one batch (a page of 3 costs the SQL of a
page of 1)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from portal_helpers import make_tenant

from backhaul.sdk import db
from backhaul.sdk.accounts import add_contact

QUERY = """query($f: PortalContactFilter, $first: Int, $after: String, $sort: String) {
  portalContacts(filter: $f, first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name email hasPassword lastLoginAt } } }"""


@pytest.fixture
def people(app):
    tina = make_tenant("Tina Tenant", "tina@example.net")
    abe = make_tenant("Abe Able", "abe@example.net", password=None, delinquent=False)
    zed = make_tenant("Zed Zulu", "zed@example.org", delinquent=False)
    add_contact(tina.account, {"name": "Tom Tenant", "email": "tom@example.net",
                               "portal_access": False})
    db.session.commit()
    return {"tina": tina, "abe": abe, "zed": zed}


def _post(app, token, variables):
    response = app.test_client().post("/graphql", json={"query": QUERY, "variables": variables},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


def _walk(app, token, filter_=None, sort=None, first=1):
    names, after, totals = [], None, set()
    while True:
        body = _post(app, token, {"f": filter_, "first": first, "after": after, "sort": sort})
        assert "errors" not in body, body
        page = body["data"]["portalContacts"]
        totals.add(page["totalCount"])
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert totals == {len(names)}
            return names
        after = page["pageInfo"]["endCursor"]


def test_portal_contacts_pages_filters_and_sorts(app, people, staff_user, api_token):
    token = api_token(staff_user(["portal.access.manage"]), scopes="full")
    # only contacts with portal access (Tom has none), in the order access was given
    assert _walk(app, token) == ["Tina Tenant", "Abe Able", "Zed Zulu"]
    assert _walk(app, token, sort="-name") == ["Zed Zulu", "Tina Tenant", "Abe Able"]
    assert _walk(app, token, sort="name", first=2) == ["Abe Able", "Tina Tenant", "Zed Zulu"]
    assert _walk(app, token, {"hasPassword": False}) == ["Abe Able"]
    assert _walk(app, token, {"hasPassword": True}) == ["Tina Tenant", "Zed Zulu"]
    assert _walk(app, token, {"search": "EXAMPLE.NET"}) == ["Tina Tenant", "Abe Able"]
    account = str(people["tina"].account.id)
    assert _walk(app, token, {"accountId": account}) == ["Tina Tenant"]
    assert _walk(app, token, {"signedInSince": "2000-01-01T00:00:00Z"}) == []

    refused = _post(app, token, {"sort": "email"})
    assert refused["data"] is None and "use one of" in refused["errors"][0]["message"]
    bad_id = _post(app, token, {"f": {"accountId": "nope"}})
    assert bad_id["data"] is None and "accountId" in bad_id["errors"][0]["message"]


def test_a_page_loads_the_logins_in_one_batch(app, people, staff_user, api_token):
    token = api_token(staff_user(["portal.access.manage"]), scopes="full")
    _post(app, token, {"first": 1})  # the token's first use writes its bookkeeping
    counts = {}
    for first in (1, 3):
        statements = []

        def count(_conn, _cursor, statement, *_args, into=statements):
            into.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            body = _post(app, token, {"first": first})
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        nodes = body["data"]["portalContacts"]["nodes"]
        assert len(nodes) == first
        assert [n["hasPassword"] for n in nodes] == [True, False, True][:first]
        counts[first] = len(statements)
    assert counts[1] == counts[3], counts
