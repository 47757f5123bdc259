"""Billing over GraphQL and in the staff UI: fields, mutations, permissions, the account
panel, the invoice page and its PDF."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import ledger, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Invoice, Run


def gql(client, token, query, variables=None):
    response = client.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def billed(app, db, shop, make_account):
    """Jane, billed for March (55.00 with tax), and an unbilled neighbour."""
    jane = make_account("Jane Doe")
    subs.subscribe(jane.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    return jane


def _token(staff_user, api_token, *permissions, scopes="full"):
    return api_token(staff_user(list(permissions)), scopes)


def test_graphql_account_invoices_and_lines(app, billed, staff_user, api_token):
    token = _token(staff_user, api_token, "billing.invoice.view")
    body = gql(app.test_client(), token, """
      query($id: ID!) {
        billingAccount(accountId: $id) { balance { amount currency formatted } delinquency
          subscriptions { service { name price { amount } } startDate billedThrough } }
        billingInvoices(filter: {accountId: $id}, first: 5) { totalCount edges { node {
          number status total { amount } amountDue { amount } pdfUrl
          lines { description quantity amount { amount } tax { amount } taxRate } } } }
      }""", {"id": str(billed.id)})
    assert "errors" not in body, body
    account = body["data"]["billingAccount"]
    assert account["balance"] == {"amount": 5500, "currency": "USD", "formatted": "55.00 USD"}
    assert account["subscriptions"][0]["billedThrough"] == "2026-04-01"
    [edge] = body["data"]["billingInvoices"]["edges"]
    node = edge["node"]
    assert (node["number"], node["status"], node["total"]["amount"]) == (
        "INV-000001", "finalized", 5500)
    assert node["pdfUrl"].endswith(".pdf")
    assert node["lines"] == [{"description": "Fiber 100, 01 Mar 2026 - 31 Mar 2026",
                              "quantity": "1", "amount": {"amount": 5000},
                              "tax": {"amount": 500}, "taxRate": "10"}]


def test_graphql_record_payment_and_field_errors(app, db, billed, staff_user, api_token):
    token = _token(staff_user, api_token, "billing.payment.record")
    mutation = """mutation($input: BillingPaymentInput!) {
        billingRecordPayment(input: $input) { ok errors { field messages }
          payment { amount { amount } method } balance { amount } } }"""
    bad = gql(app.test_client(), token, mutation, {"input": {
        "accountId": str(billed.id), "amount": "-5.00", "method": "cash"}})
    result = bad["data"]["billingRecordPayment"]
    assert result["ok"] is False and result["errors"][0]["field"] == "amount"
    good = gql(app.test_client(), token, mutation, {"input": {
        "accountId": str(billed.id), "amount": "55.00", "method": "cheque",
        "reference": "CHQ 1001", "key": "chq-1001"}})
    result = good["data"]["billingRecordPayment"]
    assert result["ok"] is True and result["balance"] == {"amount": 0}
    db.session.expire_all()
    assert db.session.scalar(sa.select(Invoice.status)) == "paid"


def test_graphql_void_paid_invoice_is_refused(app, db, billed, staff_user, api_token):
    invoice = db.session.scalar(sa.select(Invoice))
    ledger.record_payment(billed.id, "1.00", method="cash")
    db.session.commit()
    token = _token(staff_user, api_token, "billing.invoice.void")
    body = gql(app.test_client(), token, """mutation($id: ID!) {
        billingVoidInvoice(id: $id, reason: "oops") { ok errors { field messages } } }""",
               {"id": str(invoice.id)})
    result = body["data"]["billingVoidInvoice"]
    assert result["ok"] is False and "cannot be voided" in result["errors"][0]["messages"][0]


def test_graphql_permissions(app, billed, staff_user, api_token):
    token = _token(staff_user, api_token, "billing.invoice.view")
    body = gql(app.test_client(), token, """mutation {
        billingStartRun(runDate: "2026-04-01") { ok } }""")
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN",
                                               "permission": "billing.run.manage"}
    body = gql(app.test_client(), token, "{ billingRuns { totalCount } }")
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN",
                                               "permission": "billing.run.view"}


def test_graphql_run_preview_and_start(app, db, billed, staff_user, api_token):
    token = _token(staff_user, api_token, "billing.run.view", "billing.run.manage")
    body = gql(app.test_client(), token, """{ billingRunPreview(runDate: "2026-04-01") {
        accountsDue items { accountId total { amount } lines { description } } } }""")
    preview = body["data"]["billingRunPreview"]
    assert preview["accountsDue"] == 1 and preview["items"][0]["total"]["amount"] == 5500
    body = gql(app.test_client(), token, """mutation {
        billingStartRun(runDate: "2026-04-01") { ok run { id runDate } } }""")
    assert body["data"]["billingStartRun"]["ok"], body
    db.session.expire_all()
    started = db.session.get(Run, int(body["data"]["billingStartRun"]["run"]["id"]))
    assert (started.status, started.invoiced) == ("completed", 1)  # the job ran in-process


def test_invoice_page_pdf_and_account_panel(app, db, billed, staff_user, login):
    invoice = db.session.scalar(sa.select(Invoice))
    client = app.test_client()
    login(client, staff_user(["billing.invoice.view", "accounts.account.view",
                              "billing.payment.record"]))
    page = client.get(f"/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert "INV-000001" in page and "55.00 USD" in page and "Void invoice" not in page
    pdf = client.get(f"/billing/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    account_page = client.get(f"/accounts/{billed.id}").get_data(as_text=True)
    assert 'id="panel-billing-account"' in account_page
    assert "55.00 USD" in account_page and "Record a payment" in account_page


def test_record_payment_form_and_refusal(app, db, billed, staff_user, login, csrf_token):
    client = app.test_client()
    login(client, staff_user(["billing.invoice.view", "billing.payment.record"]))
    token = csrf_token(client)
    response = client.post(f"/billing/accounts/{billed.id}/payments", data={
        "amount": "0", "method": "cash", "csrf_token": token}, follow_redirects=True)
    assert "greater than zero" in response.get_data(as_text=True)
    response = client.post(f"/billing/accounts/{billed.id}/payments", data={
        "amount": "20.00", "method": "cash", "csrf_token": token}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Payment of 20.00 USD recorded; balance 35.00 USD." in text


def test_views_check_permissions(app, billed, staff_user, login):
    client = app.test_client()
    login(client, staff_user(["billing.invoice.view"]))
    assert client.get("/billing/runs").status_code == 403
    assert client.get("/billing/delinquency").status_code == 403
    assert client.get("/billing/catalogue").status_code == 403
    assert client.get("/billing/invoices").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get("/billing/invoices").status_code in (302, 401)


def test_staff_pages_render(app, db, billed, staff_user, login):
    client = app.test_client()
    login(client, staff_user(["billing.run.view", "billing.delinquency.view",
                              "billing.catalogue.view", "billing.invoice.view"]))
    runs = client.get("/billing/runs?date=2026-04-01").get_data(as_text=True)
    assert "1 account due" in runs and "Fiber 100, 01 Apr 2026 - 30 Apr 2026" in runs
    run_id = db.session.scalar(sa.select(Run.id))
    assert "1 invoiced" in client.get(f"/billing/runs/{run_id}").get_data(as_text=True)
    tonight = client.get("/billing/delinquency?day=2026-03-21").get_data(as_text=True)
    assert "INV-000001 due 2026-03-15" in tonight
    assert "Fiber 100" in client.get("/billing/catalogue").get_data(as_text=True)


def test_timeline_search_and_demo_data(app, db, billed, staff_user, make_account):
    from backhaul.plugins.billing import listings
    from backhaul.plugins.billing.models import Subscription

    ledger.record_payment(billed.id, "10.00", method="cash", reference="R1")
    db.session.commit()
    with app.test_request_context():
        entries = listings.timeline(billed, 10)
        assert [e.kind for e in entries] == ["billing.payment", "billing.invoice"]
        assert entries[1].title == "Invoice INV-000001: 55.00 USD"
        viewer = staff_user(["billing.invoice.view"])
        assert [r.title for r in listings.search("inv-000001", viewer, 5)] == ["INV-000001"]
        assert listings.search("1", staff_user([]), 5) == []
    make_account("The operator's own tenant")  # not a demo account: never subscribed
    listings.load_demo()
    listings.load_demo()  # idempotent
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 1


def test_graphql_settings_charges_adjustments_and_manual_invoice(app, db, billed, staff_user,
                                                                 api_token):
    token = _token(staff_user, api_token, "billing.settings.manage",
                   "billing.subscription.manage", "billing.invoice.manage")
    client = app.test_client()
    body = gql(client, token, """mutation($id: ID!) {
        billingUpdateAccountSettings(accountId: $id, input: {dueDays: 30, delivery: "printed"})
          { ok errors { field messages } account { billingDay } } }""", {"id": str(billed.id)})
    assert body["data"]["billingUpdateAccountSettings"]["ok"], body
    bad = gql(client, token, """mutation($id: ID!) {
        billingUpdateAccountSettings(accountId: $id, input: {delivery: "pigeon"})
          { ok errors { field messages } } }""", {"id": str(billed.id)})
    assert bad["data"]["billingUpdateAccountSettings"]["errors"][0]["field"] == "delivery"
    body = gql(client, token, """mutation($id: ID!) {
        charge: billingAddCharge(input: {accountId: $id, description: "Router",
          unitPrice: "120.00", chargeDate: "2026-03-05"}) { ok chargeId }
        zero: billingAddCharge(input: {accountId: $id, description: "Cable",
          unitPrice: "1.00", quantity: "0", chargeDate: "2026-03-05"}) { ok errors { field } }
        discount: billingAddAdjustment(input: {accountId: $id, mode: "percent",
          percent: "10", recurring: true, startDate: "2026-04-01"}) { ok adjustmentId }
        invoice: billingCreateInvoice(accountId: $id, lines: [
          {description: "Site survey", unitPrice: "80.00", taxClass: "standard"}])
          { ok invoice { number status total { amount } dueDate } }
      }""", {"id": str(billed.id)})
    data = body["data"]
    assert data["charge"]["ok"] and data["discount"]["ok"]
    assert data["zero"] == {"ok": False, "errors": [{"field": "quantity"}]}
    assert data["invoice"]["invoice"]["number"] == "INV-000002"
    assert data["invoice"]["invoice"]["total"] == {"amount": 8800}
    run.run_billing(date(2026, 4, 1))
    april = db.session.scalar(sa.select(Invoice).where(Invoice.period_start == date(2026, 4, 1)))
    descriptions = [line.description for line in april.lines]
    assert "Router" in descriptions and "Printed invoice fee" not in descriptions
    assert any(d.startswith("Discount (10%)") for d in descriptions)
    assert april.due_date == date(2026, 5, 1)  # 30 due days
