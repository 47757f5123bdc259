"""Billing's list fields as connections (issue 21): every page walked with first/after gives
each seeded row once, in the published order; totalCount counts what the filter matches;
filters and sort keys do what they say; unknown sort keys and bad filter values are refused
with a message (never a 500)."""
from __future__ import annotations

from datetime import date

import pytest

from backhaul.plugins.billing import catalogue, invoices, ledger
from backhaul.plugins.billing.models import Run

PERMS = ["billing.catalogue.view", "billing.invoice.view", "billing.run.view"]


def post(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def seeded(app, db, shop, make_account):
    """Tax classes, services, packages, invoices, ledger rows and runs with known values."""
    catalogue.create_tax_class("reduced", "Reduced", "5")
    catalogue.create_tax_class("exempt", "Exempt", "0")
    catalogue.create_package("Duo", [(shop.fiber, 1), (shop.voice, 1)], currency="USD",
                             price="60.00")
    catalogue.create_package("Solo", [(shop.fiber, 1)], currency="USD", pricing="sum")
    jane, bob = make_account("Jane Doe"), make_account("Bob Roe")

    def invoice(account, price, issued):
        draft = invoices.create_draft(account.id)
        invoices.add_line(draft, "Work", price)
        return invoices.finalize(draft, issue_date=issued) if issued else draft

    invoice(jane, "10.00", date(2026, 3, 1))     # INV-000001
    invoice(jane, "30.00", date(2026, 4, 1))     # INV-000002
    invoice(bob, "20.00", date(2026, 3, 15))     # INV-000003
    invoice(bob, "5.00", None)                   # a draft
    ledger.record_payment(jane.id, "10.00", method="cash", received_on=date(2026, 3, 2))
    db.session.add_all([
        Run(run_date=date(2026, 3, 1), status="completed", triggered_by="t"),
        Run(run_date=date(2026, 5, 1), status="failed", triggered_by="t"),
        Run(run_date=date(2026, 4, 1), status="completed_with_errors", failed=2,
            triggered_by="t"),
    ])
    db.session.commit()
    return {"jane": str(jane.id), "bob": str(bob.id), "voice": str(shop.voice.id)}


# field, node selection, label of a node, sort (None: the default), every row in that order,
# a filter ("@jane": the id of a seeded row), the labels it keeps (in the same order)
CASES = [
    ("billingTaxClasses", "key", lambda n: n["key"],
     None, ["exempt", "reduced", "standard"], {"search": "RATE"}, ["standard"]),
    ("billingTaxClasses", "key", lambda n: n["key"],
     "-rate", ["standard", "reduced", "exempt"], {"search": "e"}, ["standard", "reduced", "exempt"]),
    ("billingServices", "name", lambda n: n["name"],
     "-price", ["Installation", "Fiber 100", "IPTV quarterly", "Maintenance fee", "Home phone"],
     {"frequency": "quarterly"}, ["IPTV quarterly"]),
    ("billingServices", "name", lambda n: n["name"],
     "price", ["Home phone", "Maintenance fee", "IPTV quarterly", "Fiber 100", "Installation"],
     {"type": "voice"}, ["Home phone"]),
    ("billingPackages", "name", lambda n: n["name"],
     None, ["Duo", "Solo"], {"serviceId": "@voice"}, ["Duo"]),
    ("billingPackages", "name", lambda n: n["name"],
     "-name", ["Solo", "Duo"], {"pricing": "sum"}, ["Solo"]),
    ("billingInvoices", "number status", lambda n: n["number"],
     None, ["DRAFT", "INV-000003", "INV-000002", "INV-000001"],
     {"accountId": "@jane"}, ["INV-000002", "INV-000001"]),
    ("billingInvoices", "number status", lambda n: n["number"],
     "total", ["DRAFT", "INV-000001", "INV-000003", "INV-000002"],
     {"issuedFrom": "2026-03-10", "issuedTo": "2026-03-31"}, ["INV-000003"]),
    ("billingInvoices", "number status", lambda n: n["number"],
     "-total", ["INV-000002", "INV-000003", "INV-000001", "DRAFT"],
     {"status": "draft"}, ["DRAFT"]),
    ("billingInvoices", "number status", lambda n: n["number"],
     "createdAt", ["INV-000001", "INV-000002", "INV-000003", "DRAFT"],
     {"open": True, "number": "inv-2"}, ["INV-000002"]),
    ("billingTransactions", "kind amount { amount }", lambda n: (n["kind"],
                                                                 n["amount"]["amount"]),
     "amount", [("payment", -1000), ("invoice", 1000), ("invoice", 2000), ("invoice", 3000)],
     {"accountId": "@jane", "kind": "invoice"}, [("invoice", 1000), ("invoice", 3000)]),
    ("billingTransactions", "kind amount { amount }", lambda n: (n["kind"],
                                                                 n["amount"]["amount"]),
     None, [("payment", -1000), ("invoice", 2000), ("invoice", 3000), ("invoice", 1000)],
     {"kind": "payment"}, [("payment", -1000)]),
    ("billingRuns", "runDate status", lambda n: n["runDate"],
     "runDate", ["2026-03-01", "2026-04-01", "2026-05-01"],
     {"withFailures": True}, ["2026-04-01"]),
    ("billingRuns", "runDate status", lambda n: n["runDate"],
     "-runDate", ["2026-05-01", "2026-04-01", "2026-03-01"],
     {"from": "2026-03-15", "status": "failed"}, ["2026-05-01"]),
]


def _walk(app, token, field, selection, label, sort, filter_=None, first=2):
    seen, after, counts = [], None, set()
    query = (f"query($f: {_filter_type(field)}, $after: String, $sort: String) {{ {field}("
             f"filter: $f, first: {first}, after: $after, sort: $sort) {{ totalCount "
             f"pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} "
             f"edges {{ cursor }} }} }}")
    for _ in range(20):
        body = post(app, token, query, {"f": filter_, "after": after, "sort": sort})
        assert "errors" not in body, body
        page = body["data"][field]
        assert len(page["nodes"]) <= first
        counts.add(page["totalCount"])
        seen += [label(n) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert counts == {len(seen)}, "totalCount is the same on every page: every match"
    return seen


def _filter_type(field: str) -> str:
    return {"billingTaxClasses": "BillingTaxClassFilter", "billingServices":
            "BillingServiceFilter", "billingPackages": "BillingPackageFilter",
            "billingInvoices": "BillingInvoiceFilter", "billingTransactions":
            "BillingTransactionFilter", "billingRuns": "BillingRunFilter"}[field]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_pages_filters_and_sorts(app, seeded, staff_user, api_token, case):
    field, selection, label, sort, every, filter_, kept = case
    token = api_token(staff_user(PERMS), "read")
    assert _walk(app, token, field, selection, label, sort) == every
    assert _walk(app, token, field, selection, label, sort, first=100) == every
    ids = {k: seeded[v[1:]] if isinstance(v, str) and v.startswith("@") else v
           for k, v in filter_.items()}
    assert _walk(app, token, field, selection, label, sort, ids) == kept


@pytest.mark.parametrize("field", ["billingTaxClasses", "billingServices", "billingPackages",
                                   "billingInvoices", "billingTransactions", "billingRuns"])
def test_unknown_sort_key_is_refused_with_the_keys(app, seeded, staff_user, api_token, field):
    token = api_token(staff_user(PERMS), "read")
    body = post(app, token, f'{{ {field}(sort: "id") {{ totalCount }} }}')
    assert body["data"] is None
    assert "use one of" in body["errors"][0]["message"]


@pytest.mark.parametrize("field, filter_", [
    ("billingInvoices", '{status: "unpaid"}'), ("billingInvoices", '{kind: "bill"}'),
    ("billingInvoices", '{accountId: "x"}'), ("billingInvoices", '{number: "INV-"}'),
    ("billingTransactions", '{kind: "gift"}'), ("billingRuns", '{status: "done"}'),
    ("billingServices", '{frequency: "weekly"}'), ("billingPackages", '{pricing: "free"}'),
    ("billingPackages", '{serviceId: "-1"}'),
])
def test_bad_filter_values_are_user_errors(app, seeded, staff_user, api_token, field, filter_):
    token = api_token(staff_user(PERMS), "read")
    body = post(app, token, f"{{ {field}(filter: {filter_}) {{ totalCount }} }}")
    assert body["data"] is None and body["errors"], body
    assert "Internal" not in body["errors"][0]["message"]


def test_a_retired_service_is_left_out_by_active_only(app, seeded, shop, staff_user, api_token):
    shop.voice.active = False
    from backhaul.sdk import db

    db.session.commit()
    token = api_token(staff_user(PERMS), "read")
    names = _walk(app, token, "billingServices", "name", lambda n: n["name"], "-price",
                  {"activeOnly": True})
    assert "Home phone" not in names and len(names) == 4
    assert _walk(app, token, "billingServices", "name", lambda n: n["name"], "-price",
                 {"active": False}) == ["Home phone"]
    assert len(_walk(app, token, "billingServices", "name", lambda n: n["name"], "-price",
                     {"activeOnly": False})) == 5
