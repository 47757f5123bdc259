"""GraphQL: save (query validated against the schema, paths against the query), run as the
owner — a clerk without billing rights never sees an invoice, whoever runs the report and
whenever — sort, CSV, schedule, delete, and who may change what."""
from __future__ import annotations

import csv
import io

import pytest
from reports_helpers import (
    ACCOUNT_COLUMNS,
    ACCOUNT_QUERY,
    CREATE,
    DELETE,
    INVOICE_COLUMNS,
    INVOICE_QUERY,
    RUN,
    SCHEDULE,
    UPDATE,
    field_errors,
    gql,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(app):
    return app.test_client()


def _create(client, token, name, query, rows, columns):
    out = gql(client, token, CREATE, input={"name": name, "query": query, "rowsPath": rows,
                                            "columns": columns})["reportsCreateReport"]
    assert out["ok"], out
    return out["report"]


def test_a_clerk_without_billing_rights_never_sees_invoices(app, client, people, invoices,
                                                            api_token, staff_user):
    office, clerk = people
    office_token, clerk_token = api_token(office, "full"), api_token(clerk, "full")
    mine = _create(client, office_token, "Invoices (office)", INVOICE_QUERY,
                   "billingInvoices.edges", INVOICE_COLUMNS)
    theirs = _create(client, clerk_token, "Invoices (clerk)", INVOICE_QUERY,
                     "billingInvoices.edges", INVOICE_COLUMNS)

    result = gql(client, office_token, RUN, id=mine["id"], sort=0)["reportsRunReport"]["result"]
    assert [r[0] for r in result["rows"]] == ["INV-000001", "INV-000002", "INV-000003"]
    assert result["rows"][0][1:] == ["finalized", "5000"]
    assert result["errors"] == []

    # the clerk's own report, run by the clerk: refused by billing's permission
    result = gql(client, clerk_token, RUN, id=theirs["id"])["reportsRunReport"]["result"]
    assert result["rows"] == []
    assert any("billing.invoice.view" in e for e in result["errors"]), result

    # ... run by a superuser: still the clerk's permissions
    admin = staff_user(superuser=True, name="Ada Admin")
    result = gql(client, api_token(admin, "full"), RUN,
                 id=theirs["id"])["reportsRunReport"]["result"]
    assert result["rows"] == [] and "INV-000001" not in result["csv"]

    # the office's report, run by the clerk: never more than the clerk may see either
    result = gql(client, clerk_token, RUN, id=mine["id"])["reportsRunReport"]["result"]
    assert result["rows"] == []

    # ... and when the office manager loses the right, their own report loses the rows
    from backhaul.core.auth.models import RolePermission
    from backhaul.sdk import db

    for role in office.roles:
        role.grants = [g for g in role.grants if g.permission != "billing.invoice.view"]
    db.session.commit()
    assert not db.session.query(RolePermission).filter_by(
        permission="billing.invoice.view").count()
    result = gql(client, office_token, RUN, id=mine["id"])["reportsRunReport"]["result"]
    assert result["rows"] == []


def test_sorting_and_formula_safe_csv(app, client, people, invoices, api_token):
    office, _ = people
    token = api_token(office, "full")
    report = _create(client, token, "Accounts", ACCOUNT_QUERY, "accounts.edges",
                     ACCOUNT_COLUMNS)
    result = gql(client, token, RUN, id=report["id"], sort=1, desc=True)[
        "reportsRunReport"]["result"]
    assert result["headings"] == ["Account", "Name", "Status"]
    # names sorted descending, case-insensitively (the '=' of the hostile one sorts first)
    assert [r[1] for r in result["rows"]] == ["Carl Cooper", "Bea Baker",
                                              '=HYPERLINK("http://evil.example")']
    parsed = list(csv.reader(io.StringIO(result["csv"])))
    assert parsed[0] == ["Account", "Name", "Status"]
    assert parsed[3][1] == "'=HYPERLINK(\"http://evil.example\")"
    assert parsed[1][1] == "Carl Cooper"


QUERY_ERRORS = [
    ("mutation { reportsDeleteReport(id: 1) { ok } }", "only a query"),
    ("{ accounts(first: 5) { edges { node { nosuchfield } } } }", "nosuchfield"),
    ("query($n: Int) { accounts(first: $n) { edges { node { number } } } }", "no variables"),
    ("{ accounts(first: 5) { edges { node { number } }", "Syntax Error"),
    ("{ accounts(first: 5) { edges { node { " + "parent { " * 9 + "number" + " }" * 9
     + " } } } }", "depth"),
    ("{ a: viewer { email } " + " ".join(f"a{i}: viewer {{ email }}" for i in range(40))
     + " }", "alias"),
    ("{ viewer { email } }" + " " * 10_001, "at most 10000 characters"),
]


@pytest.mark.parametrize("query,expected", QUERY_ERRORS)
def test_the_query_is_checked_on_save(app, client, people, api_token, query, expected):
    token = api_token(people[0], "full")
    out = gql(client, token, CREATE, input={"name": "Bad", "query": query,
                                            "rowsPath": "accounts.edges",
                                            "columns": ACCOUNT_COLUMNS})["reportsCreateReport"]
    errors = field_errors(out)
    assert list(errors) == ["query"], errors
    assert expected.lower() in " ".join(errors["query"]).lower(), errors


def test_rows_and_columns_must_be_selected_by_the_query(app, client, people, api_token):
    token = api_token(people[0], "full")
    base = {"name": "Paths", "query": ACCOUNT_QUERY}
    cases = [
        ({"rowsPath": "accounts.nodes", "columns": ACCOUNT_COLUMNS}, "rowsPath"),
        ({"rowsPath": "accounts.edges", "columns": [{"path": "node.email"}]}, "columns"),
        ({"rowsPath": "accounts.edges", "columns": [{"path": "node.status"}]}, "columns"),
        ({"rowsPath": "accounts.edges", "columns": []}, "columns"),
        ({"rowsPath": "accounts.edges", "columns": [{"path": "node.name",
                                                    "heading": "x" * 101}]}, "columns"),
    ]
    for extra, field in cases:
        out = gql(client, token, CREATE, input={**base, **extra})["reportsCreateReport"]
        assert list(field_errors(out)) == [field], (extra, out)
    # an alias is the key the answer uses: a column may name it
    aliased = _create(client, token, "Aliased", "{ list: accounts(first: 5) { edges { node {"
                      " n: number } } } }", "list.edges", [{"path": "node.n"}])
    assert aliased["columns"] == [{"path": "node.n", "heading": "node.n"}]


def test_schedule_update_delete_and_who_may(app, client, people, api_token, staff_user):
    office, clerk = people
    token, other = api_token(office, "full"), api_token(clerk, "full")
    report = _create(client, token, "Weekly", ACCOUNT_QUERY, "accounts.edges",
                     ACCOUNT_COLUMNS)
    assert report["canChange"] is True and report["nextRunAt"] is None

    bad = gql(client, token, SCHEDULE, id=report["id"], input={
        "days": "18", "time": "7am", "recipients": "office@, boss@example.net",
        "format": "pdf"})["reportsScheduleReport"]
    assert set(field_errors(bad)) == {"days", "time", "recipients", "format"}

    ok = gql(client, token, SCHEDULE, id=report["id"], input={
        "days": "1", "time": "07:00", "recipients": "office@isp.example.net"})[
        "reportsScheduleReport"]
    assert ok["ok"], ok
    assert ok["report"]["scheduleDays"] == "1" and ok["report"]["nextRunAt"]

    # changing the query keeps the schedule
    changed = gql(client, token, UPDATE, id=report["id"], input={
        "name": "Weekly accounts", "query": ACCOUNT_QUERY, "rowsPath": "accounts.edges",
        "columns": ACCOUNT_COLUMNS[:1]})["reportsUpdateReport"]
    assert changed["ok"] and changed["report"]["scheduleTime"] == "07:00"

    # someone else's report: may run it, may not change or delete it
    seen = gql(client, other, "{ reportsReports { nodes { name canChange } } }")[
        "reportsReports"]["nodes"]
    assert seen == [{"name": "Weekly accounts", "canChange": False}]
    for mutation, extra in ((UPDATE, {"input": {"name": "Mine now", "query": ACCOUNT_QUERY,
                                                "rowsPath": "accounts.edges",
                                                "columns": ACCOUNT_COLUMNS}}),
                            (DELETE, {}), (SCHEDULE, {"input": {"days": ""}})):
        out = next(iter(gql(client, other, mutation, id=report["id"], **extra).values()))
        assert "owner" in " ".join(field_errors(out)["id"])
    # reports.admin may
    admin = staff_user(["reports.view", "reports.manage", "reports.admin"])
    gone = gql(client, api_token(admin, "full"), DELETE, id=report["id"])["reportsDeleteReport"]
    assert gone["ok"]
    assert gql(client, token, "{ reportsReports { nodes { id } } }")[
        "reportsReports"]["nodes"] == []


def test_read_only_tokens_and_missing_permissions(app, client, people, api_token, staff_user,
                                                 invoices):
    office, _ = people
    report = _create(client, api_token(office, "full"), "R", ACCOUNT_QUERY, "accounts.edges",
                     ACCOUNT_COLUMNS)
    nobody = staff_user(["accounts.account.view"])
    response = client.post("/graphql", json={"query": "{ reportsReports { nodes { id } } }"},
                           headers={"Authorization": f"Bearer {api_token(nobody, 'full')}"})
    assert "reports.view" in response.get_json()["errors"][0]["message"]
    reader = api_token(office, "read")
    response = client.post("/graphql", json={"query": RUN, "variables": {"id": report["id"]}},
                           headers={"Authorization": f"Bearer {reader}"})
    assert response.status_code == 403
    # a read-only token reads the same table through the query
    result = gql(client, reader, "query($id: ID!) { reportsResult(id: $id, sortColumn: 0) {"
                 " headings rows } }", id=report["id"])["reportsResult"]
    assert result["headings"] == ["Account", "Name", "Status"]
    assert [r[1:] for r in result["rows"]] == [['=HYPERLINK("http://evil.example")', "Active"],
                                               ["Bea Baker", "Active"],
                                               ["Carl Cooper", "Active"]]


def test_one_person_owns_a_bounded_number_of_reports(app, client, people, api_token,
                                                    monkeypatch):
    from backhaul.plugins.reports import reports

    monkeypatch.setattr(reports, "MAX_PER_OWNER", 2)
    token = api_token(people[0], "full")
    for name in ("One", "Two"):
        _create(client, token, name, ACCOUNT_QUERY, "accounts.edges", ACCOUNT_COLUMNS)
    out = gql(client, token, CREATE, input={"name": "Three", "query": ACCOUNT_QUERY,
                                            "rowsPath": "accounts.edges",
                                            "columns": ACCOUNT_COLUMNS})["reportsCreateReport"]
    assert "delete one first" in field_errors(out)[None][0]
    # someone else still may
    _create(client, api_token(people[1], "full"), "Three", ACCOUNT_QUERY, "accounts.edges",
            ACCOUNT_COLUMNS)
