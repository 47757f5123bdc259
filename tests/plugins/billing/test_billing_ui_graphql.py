"""The GraphQL behind the billing pages: service type parameters, catalogue editing,
subscription changes with reasons, nodes on connections, billingRun, account names."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.plugins.billing import run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Subscription

PERMS = ["billing.catalogue.view", "billing.catalogue.manage", "billing.invoice.view",
         "billing.subscription.manage", "billing.run.view", "billing.run.manage"]


def gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert "errors" not in body, body
    return body["data"]


def test_service_types_describe_their_parameters(app, db, shop, staff_user, api_token):
    token = api_token(staff_user(PERMS), "full")
    data = gql(app, token, "{ billingServiceTypes { key parameters { name type required "
                           "min default itemType } } }")
    types = {t["key"]: {p["name"]: p for p in t["parameters"]}
             for t in data["billingServiceTypes"]}
    assert types["data"]["download_mbps"] == {"name": "download_mbps", "type": "integer",
                                              "required": True, "min": 1.0, "default": None,
                                              "itemType": None}
    assert types["general"]["channels"]["itemType"] == "string"
    assert types["recurring"] == {}


def test_edit_service_and_package(app, db, shop, staff_user, api_token):
    token = api_token(staff_user(PERMS), "full")
    bad = gql(app, token, """mutation($id: ID!) { billingUpdateService(id: $id, input: {
        params: {download_mbps: 200, upload_mbps: 0}}) { ok errors { field messages } } }""",
              {"id": str(shop.fiber.id)})["billingUpdateService"]
    assert bad["ok"] is False and bad["errors"][0]["field"] == "params.upload_mbps"
    good = gql(app, token, """mutation($id: ID!) { billingUpdateService(id: $id, input: {
        price: "55.00", params: {download_mbps: 200, upload_mbps: 40}}) {
        ok service { price { amount } params description } } }""",
               {"id": str(shop.fiber.id)})["billingUpdateService"]
    assert good["ok"] and good["service"]["price"]["amount"] == 5500
    assert good["service"]["description"] == "200/40 Mbps"
    made = gql(app, token, """mutation($f: ID!, $v: ID!) { billingCreatePackage(input: {
        name: "Duo", price: "60.00", items: [{serviceId: $f}, {serviceId: $v, quantity: 2}]})
        { ok errors { field messages } package { id name active items { quantity } } } }""",
               {"f": str(shop.fiber.id), "v": str(shop.voice.id)})["billingCreatePackage"]
    assert made["ok"], made
    retired = gql(app, token, """mutation($id: ID!) { billingUpdatePackage(id: $id, input: {
        active: false}) { ok package { active } } }""",
                  {"id": made["package"]["id"]})["billingUpdatePackage"]
    assert retired == {"ok": True, "package": {"active": False}}
    gone = gql(app, token, """mutation($id: ID!) { billingRetireService(id: $id) {
        ok service { active } } }""", {"id": str(shop.voice.id)})["billingRetireService"]
    assert gone == {"ok": True, "service": {"active": False}}


def test_subscription_changes_runs_and_names(app, db, shop, make_account, staff_user,
                                             api_token):
    token = api_token(staff_user(PERMS), "full")
    jane = make_account("Jane Doe")
    sub = subs.subscribe(jane.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    no_reason = gql(app, token, """mutation($id: ID!) { billingChangeSubscriptionPrice(
        id: $id, effectiveDate: "2026-03-01", price: "40.00", reason: " ") {
        ok errors { field } } }""", {"id": str(sub.id)})["billingChangeSubscriptionPrice"]
    assert no_reason == {"ok": False, "errors": [{"field": "reason"}]}
    changed = gql(app, token, """mutation($id: ID!) { billingChangeSubscriptionPrice(
        id: $id, effectiveDate: "2026-03-01", price: "40.00", reason: "loyalty") {
        ok subscription { priceOverride { amount } } } }""",
                  {"id": str(sub.id)})["billingChangeSubscriptionPrice"]
    assert changed["subscription"]["priceOverride"]["amount"] == 4000
    preview = gql(app, token, """query($a: ID!) { billingRunPreview(runDate: "2026-03-01",
        accountId: $a) { accountsDue items { accountNumber accountName total { amount } } } }""",
                  {"a": str(jane.id)})["billingRunPreview"]
    assert preview["items"] == [{"accountNumber": jane.number, "accountName": "Jane Doe",
                                 "total": {"amount": 4400}}]
    done = run.run_billing(date(2026, 3, 1))
    data = gql(app, token, """query($id: ID!) { billingRun(id: $id) { invoices {
        number accountNumber accountName } }
        billingInvoices(first: 5) { nodes { number } }
        billingRuns(first: 5) { nodes { id } } }""", {"id": str(done.id)})
    assert data["billingRun"]["invoices"] == [{"number": "INV-000001",
                                               "accountNumber": jane.number,
                                               "accountName": "Jane Doe"}]
    assert data["billingInvoices"]["nodes"] == [{"number": "INV-000001"}]
    assert data["billingRuns"]["nodes"] == [{"id": str(done.id)}]
    ended = gql(app, token, """mutation($id: ID!) { billingEndSubscriptionWithReason(id: $id,
        endDate: "2099-01-01", reason: "moving") { ok subscription { endDate } } }""",
                {"id": str(sub.id)})["billingEndSubscriptionWithReason"]
    assert ended == {"ok": True, "subscription": {"endDate": "2099-01-01"}}
    scheduled = gql(app, token, """mutation($id: ID!, $on: Date!) {
        billingScheduleSubscriptionChange(id: $id, effectiveDate: $on, price: "42.00") {
        ok errors { field messages } eventId } }""", {
        "id": str(sub.id), "on": (date.today() + timedelta(days=20)).isoformat()},
    )["billingScheduleSubscriptionChange"]
    assert scheduled["ok"] and scheduled["eventId"], scheduled
    queued = gql(app, token, """mutation($a: ID!) { billingBillAccountNow(accountId: $a,
        runDate: "2026-04-01") { ok run { id status } } }""",
                 {"a": str(jane.id)})["billingBillAccountNow"]
    assert queued["ok"] and queued["run"]["status"] == "running"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1


def test_tax_class_from_graphql_and_form(app, db, staff_user, api_token, login, csrf_token):
    token = api_token(staff_user(PERMS), "full")
    made = gql(app, token, """mutation { billingCreateTaxClass(key: "reduced", name: "Reduced",
        rate: "7.5") { ok taxClass { key rate } } }""")["billingCreateTaxClass"]
    assert made["ok"] and made["taxClass"]["key"] == "reduced"
    assert float(made["taxClass"]["rate"]) == 7.5
    bad = gql(app, token, """mutation { billingCreateTaxClass(key: "x", name: "X",
        rate: "120") { ok errors { field } } }""")["billingCreateTaxClass"]
    assert bad == {"ok": False, "errors": [{"field": "rate"}]}
    client = app.test_client()
    login(client, staff_user(PERMS))
    client.post("/billing/catalogue/tax-classes", data={
        "key": "std", "name": "Standard", "rate": "20", "csrf_token": csrf_token(client)})
    page = client.get("/billing/catalogue").get_data(as_text=True)
    assert "std — Standard: 20 %" in page and "reduced — Reduced: 7.5 %" in page


def test_mutation_errors_name_fields_as_the_schema_does(app, db, shop, make_account,
                                                        staff_user, api_token):
    token = api_token(staff_user(PERMS), "full")
    jane = make_account("Jane Doe")
    db.session.commit()
    sub = gql(app, token, """mutation($a: ID!, $s: ID!) { billingSubscribe(input: {
        accountId: $a, serviceId: $s, startDate: "2026-03-01", priceOverride: "abc"}) {
        ok errors { field } } }""", {"a": str(jane.id), "s": str(shop.fiber.id)})
    assert sub["billingSubscribe"] == {"ok": False, "errors": [{"field": "priceOverride"}]}
    charge = gql(app, token, """mutation($a: ID!) { billingAddCharge(input: {accountId: $a,
        description: "Router", unitPrice: "x", chargeDate: "2026-03-01"}) {
        ok errors { field } } }""", {"a": str(jane.id)})
    assert charge["billingAddCharge"] == {"ok": False, "errors": [{"field": "unitPrice"}]}
    package = gql(app, token, """mutation { billingCreatePackage(input: {name: "P",
        price: "1", items: [{serviceId: "99999"}]}) { ok errors { field } } }""")
    assert package["billingCreatePackage"] == {"ok": False,
                                               "errors": [{"field": "items.0.serviceId"}]}
