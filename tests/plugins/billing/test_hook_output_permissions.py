"""Hook outputs carry their permission and are filtered per principal (issue 11 #2).

The matrix: for each principal (holding accounts.account.view, with or without the owning
plugin's permission), the account page and the GraphQL timeline show billing's entries only
to those who hold billing.invoice.view. The expected rows are written out here, not derived
from the entries' own declarations.
"""
from __future__ import annotations

from datetime import date

import pytest

from backhaul.plugins.billing import run, subscriptions

MATRIX = [  # (permissions held, sees the invoice on the timeline)
    (["accounts.account.view"], False),
    (["accounts.account.view", "billing.payment.record"], False),
    (["accounts.account.view", "billing.invoice.view"], True),
]


@pytest.fixture
def billed(app, db, shop, make_account):
    acct = make_account("Timeline Tenant")
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    return acct


@pytest.mark.parametrize("held, sees", MATRIX)
def test_account_page_timeline(app, billed, staff_user, login, held, sees):
    web = app.test_client()
    login(web, staff_user(held))
    page = web.get(f"/accounts/{billed.id}").get_data(as_text=True)
    assert ("INV-000001" in page) is sees


@pytest.mark.parametrize("held, sees", MATRIX)
def test_graphql_timeline(app, billed, staff_user, api_token, held, sees):
    token = api_token(staff_user(held), "full")
    answer = app.test_client().post("/graphql", json={
        "query": "query($id: ID) { account(id: $id) { timeline { kind title } } }",
        "variables": {"id": str(billed.id)}},
        headers={"Authorization": f"Bearer {token}"}).get_json()
    titles = [e["title"] for e in answer["data"]["account"]["timeline"]]
    assert any("INV-000001" in t for t in titles) is sees
