"""``reportsReports`` as a connection (issue 21): pages, totalCount, filters (mine, owner,
scheduled, search), sorts, and an unknown sort key refused."""
from __future__ import annotations

import pytest

from backhaul.plugins.reports.models import Report
from backhaul.sdk import db

QUERY = """query($f: ReportsReportFilter, $first: Int, $after: String, $sort: String) {
  reportsReports(filter: $f, first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name canChange } } }"""


@pytest.fixture
def saved(app, people):
    office, clerk = people
    for name, owner, days in (("Weekly invoices", office, "1"), ("Accounts", clerk, ""),
                              ("Overdue", office, "")):
        db.session.add(Report(name=name, owner_id=owner.id, query="{ accounts { totalCount } }",
                              rows_path="accounts.edges", columns=[], schedule_days=days))
        db.session.flush()  # one after the other: createdAt follows this order
    db.session.commit()
    return people


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
        page = body["data"]["reportsReports"]
        totals.add(page["totalCount"])
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert totals == {len(names)}
            return names
        after = page["pageInfo"]["endCursor"]


def test_reports_pages_filters_and_sorts(app, saved, api_token):
    office, clerk = saved
    token = api_token(office, "read")
    assert _walk(app, token) == ["Accounts", "Overdue", "Weekly invoices"]
    assert _walk(app, token, first=2) == ["Accounts", "Overdue", "Weekly invoices"]
    assert _walk(app, token, sort="-name") == ["Weekly invoices", "Overdue", "Accounts"]
    assert _walk(app, token, sort="-createdAt") == ["Overdue", "Accounts", "Weekly invoices"]
    assert _walk(app, token, {"mine": True}) == ["Overdue", "Weekly invoices"]
    assert _walk(app, api_token(clerk, "read"), {"mine": True}) == ["Accounts"]
    assert _walk(app, token, {"mine": False}) == ["Accounts"]
    assert _walk(app, token, {"ownerId": str(clerk.id)}) == ["Accounts"]
    assert _walk(app, token, {"scheduled": True}) == ["Weekly invoices"]
    assert _walk(app, token, {"scheduled": False, "search": "OVER"}) == ["Overdue"]

    refused = _post(app, token, {"sort": "owner"})
    assert refused["data"] is None and "use one of" in refused["errors"][0]["message"]
    bad_id = _post(app, token, {"f": {"ownerId": "x"}})
    assert bad_id["data"] is None and "ownerId" in bad_id["errors"][0]["message"]
