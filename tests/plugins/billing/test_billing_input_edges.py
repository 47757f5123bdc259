"""Money input is checked at the edge (issue 10 defect 6, issue 11 finding 10, billing part).

Each bad value is a field error naming the field (camelCase, as the schema names it), and
nothing is written: row counts before and after are compared.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing.models import Adjustment, Charge, Payment, Service

CHARGE = """mutation($i: BillingChargeInput!) { billingAddCharge(input: $i) {
  ok errors { field messages } } }"""
PAYMENT = """mutation($i: BillingPaymentInput!) { billingRecordPayment(input: $i) {
  ok errors { field messages } } }"""
SERVICE = """mutation($i: BillingServiceInput!) { billingCreateService(input: $i) {
  ok errors { field messages } } }"""
ADJUST = """mutation($i: BillingAdjustmentInput!) { billingAddAdjustment(input: $i) {
  ok errors { field messages } } }"""


def gql(client, token, query, variables):
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert "errors" not in body, body["errors"]  # a field error, never INTERNAL_ERROR
    return next(iter(body["data"].values()))


@pytest.fixture
def token(app, staff_user, api_token):
    return api_token(staff_user(["billing.subscription.manage", "billing.payment.record",
                                 "billing.catalogue.manage", "billing.invoice.view"]), "full")


@pytest.fixture
def account(app, db, make_account):
    acct = make_account("Edge Tenant")
    db.session.commit()
    return acct


def counts(db):
    return [db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Charge, Payment, Service, Adjustment)]


TODAY = date.today()


@pytest.mark.parametrize("change, field", [
    ({"description": ""}, "description"),
    ({"description": "   "}, "description"),
    ({"description": "Router\x00"}, "description"),
    ({"description": "x" * 301}, "description"),
    ({"unitPrice": "-10.00"}, "unitPrice"),
    ({"unitPrice": "0"}, "unitPrice"),
    ({"unitPrice": "99999999999999999999"}, "unitPrice"),
    ({"quantity": "1e30"}, "quantity"),
    ({"quantity": "NaN"}, "quantity"),
    ({"quantity": "0.000001"}, "quantity"),
    ({"chargeDate": "2001-01-01"}, "chargeDate"),
    ({"chargeDate": (TODAY + timedelta(days=800)).isoformat()}, "chargeDate"),
])
def test_bad_one_time_charges_are_field_errors_and_write_nothing(
        app, db, client, token, account, change, field):
    before = counts(db)
    good = {"accountId": str(account.id), "description": "Installation", "unitPrice": "99.00",
            "chargeDate": TODAY.isoformat()}
    answer = gql(client, token, CHARGE, {"i": {**good, **change}})
    assert answer["ok"] is False
    assert [e["field"] for e in answer["errors"]] == [field], answer
    db.session.rollback()
    assert counts(db) == before
    assert gql(client, token, CHARGE, {"i": good})["ok"] is True  # the good one is taken


@pytest.mark.parametrize("change, field", [
    ({"receivedOn": (TODAY + timedelta(days=30)).isoformat()}, "receivedOn"),
    ({"receivedOn": "2001-05-01"}, "receivedOn"),
    ({"amount": "1e400"}, "amount"),
    ({"amount": "99999999999999999"}, "amount"),
    ({"reference": "x" * 201}, "reference"),
])
def test_bad_payments_are_field_errors(app, db, client, token, account, change, field):
    before = counts(db)
    good = {"accountId": str(account.id), "amount": "10.00", "method": "cash"}
    answer = gql(client, token, PAYMENT, {"i": {**good, **change}})
    assert answer["ok"] is False and [e["field"] for e in answer["errors"]] == [field], answer
    db.session.rollback()
    assert counts(db) == before


@pytest.mark.parametrize("change, field", [
    ({"name": "   "}, "name"),
    ({"name": "x" * 100_000}, "name"),
    ({"name": "Fiber\x00"}, "name"),
    ({"currency": "ZZZ"}, "price"),
])
def test_bad_services_are_field_errors(app, db, client, token, change, field):
    before = counts(db)
    good = {"name": "Fiber 500", "type": "data", "price": "59.00", "currency": "USD",
            "params": {"download_mbps": 500, "upload_mbps": 100}}
    answer = gql(client, token, SERVICE, {"i": {**good, **change}})
    assert answer["ok"] is False, answer
    assert field in [e["field"] for e in answer["errors"]] or \
        "currency" in [e["field"] for e in answer["errors"]], answer
    db.session.rollback()
    assert counts(db) == before


def test_nan_percentage_discount_is_a_field_error(app, db, client, token, account):
    answer = gql(client, token, ADJUST, {"i": {
        "accountId": str(account.id), "mode": "percent", "percent": "NaN",
        "startDate": TODAY.isoformat()}})
    assert answer["ok"] is False and answer["errors"][0]["field"] == "percent"


def test_the_payment_form_never_redirects_off_site(app, db, account, staff_user, login,
                                                     csrf_token):
    """Issue 11 #11: ``next`` on the payment form redirected anywhere."""
    web = app.test_client()
    login(web, staff_user(["billing.payment.record", "billing.invoice.view"]))
    for target, expected in (("https://evil.example/phish", f"/billing/accounts/{account.id}"),
                             ("//evil.example", f"/billing/accounts/{account.id}"),
                             ("/accounts/", "/accounts/")):
        answer = web.post(f"/billing/accounts/{account.id}/payments", data={
            "amount": "1.00", "method": "cash", "next": target,
            "csrf_token": csrf_token(web)})
        assert answer.status_code == 302
        assert answer.headers["Location"].endswith(expected), answer.headers["Location"]
