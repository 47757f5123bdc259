"""A list of accounts with their services, invoices and contacts costs a constant number of
SQL statements, whatever the page size (issue 21).

100 accounts, each with a contact, two subscriptions and two billing runs' invoices. The
statements are counted with SQLAlchemy's ``before_cursor_execute`` event around
``POST /graphql``; the expectation is only that pages of 10, 50 and 100 cost the
same — and the data is checked against the rows written, so a page that silently dropped
its nested lists could not pass.
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.sdk.testing.auth import create_api_token, make_staff_user

LIST = """query($first: Int!) {
  accounts(first: $first) {
    totalCount
    edges { node {
      number name
      contacts { name email }
      billingSubscriptions { startDate service { name } }
      billingInvoices(limit: 3) { number status total { amount } }
    } }
  }
}"""


@pytest.fixture
def hundred(app, db, shop, make_account):
    from backhaul.plugins.billing import run, subscriptions
    from backhaul.sdk.accounts import add_contact

    for i in range(100):
        account = make_account(f"Customer {i:03d}")
        add_contact(account, {"name": f"Contact {i}", "email": f"c{i}@example.test",
                              "is_primary": True})
        subscriptions.subscribe(account.id, service=shop.fiber, start_date=date(2026, 3, 1))
        subscriptions.subscribe(account.id, service=shop.voice, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    run.run_billing(date(2026, 4, 1))
    token = create_api_token(make_staff_user(["accounts.account.view",
                                              "billing.invoice.view"]), "read")
    return {"Authorization": f"Bearer {token}"}


def _page(app, db, headers, first):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    client = app.test_client()
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post("/graphql", json={"query": LIST, "variables": {"first": first}},
                               headers=headers)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    body = response.get_json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]["accounts"], len(statements)


def test_account_list_with_services_invoices_contacts_costs_constant_sql(app, db, hundred):
    from backhaul.plugins.billing.models import Invoice

    _page(app, db, hundred, 1)  # the token's first use writes its bookkeeping
    counts = {}
    for first in (10, 50, 100):
        page, counts[first] = _page(app, db, hundred, first)
        nodes = [e["node"] for e in page["edges"]]
        assert page["totalCount"] == 100 and len(nodes) == first
        for node in nodes:
            assert [c["email"] for c in node["contacts"]] == [
                f"c{int(node['name'][-3:])}@example.test"]
            assert sorted(s["service"]["name"] for s in node["billingSubscriptions"]) == [
                "Fiber 100", "Home phone"]
            assert [i["status"] for i in node["billingInvoices"]] == ["finalized"] * 2
    assert counts[10] == counts[50] == counts[100], counts
    invoices = db.session.scalar(sa.select(sa.func.count()).select_from(Invoice))
    assert invoices == 200


def test_invoice_limit_is_checked(app, db, hundred):
    response = app.test_client().post("/graphql", headers=hundred, json={
        "query": "{ accounts(first: 1) { nodes { billingInvoices(limit: 0) { id } } } }"})
    errors = response.get_json()["errors"]
    assert "limit: must be between 1 and 100" in errors[0]["message"]


def test_an_explicit_null_limit_means_the_default(app, db, hundred):
    """Found by the fuzzer (``billingInvoices(limit: null)`` answered INTERNAL_ERROR)."""
    response = app.test_client().post("/graphql", headers=hundred, json={
        "query": "{ accounts(first: 1) { nodes { billingInvoices(limit: null) { id } } } }"})
    body = response.get_json()
    assert "errors" not in body, body
    assert len(body["data"]["accounts"]["nodes"][0]["billingInvoices"]) == 2
