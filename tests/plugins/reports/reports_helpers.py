"""Helpers of the reports tests: GraphQL over HTTP with a Bearer token."""
from __future__ import annotations

from datetime import date

INVOICE_QUERY = """{
  billingInvoices(first: 50) {
    edges { node { number status total { amount currency } } }
  }
}"""
INVOICE_COLUMNS = [{"path": "node.number", "heading": "Invoice"},
                   {"path": "node.status", "heading": "Status"},
                   {"path": "node.total.amount", "heading": "Total (minor units)"}]
ACCOUNT_QUERY = """{
  accounts(first: 100, sort: "number") {
    edges { node { number name status { name } } }
  }
}"""
ACCOUNT_COLUMNS = [{"path": "node.number", "heading": "Account"},
                   {"path": "node.name", "heading": "Name"},
                   {"path": "node.status.name", "heading": "Status"}]


REPORT_FIELDS = ("id name ownerId canChange rowsPath columns { path heading } scheduleDays "
                 "scheduleTime scheduleRecipients scheduleFormat nextRunAt lastError")
CREATE = ("mutation($input: ReportsReportInput!) { reportsCreateReport(input: $input) {"
          " ok errors { field messages } report { " + REPORT_FIELDS + " } } }")
UPDATE = ("mutation($id: ID!, $input: ReportsReportInput!) { reportsUpdateReport(id: $id, "
          "input: $input) { ok errors { field messages } report { " + REPORT_FIELDS + " } } }")
SCHEDULE = ("mutation($id: ID!, $input: ReportsScheduleInput!) { reportsScheduleReport(id: $id,"
            " input: $input) { ok errors { field messages } report { " + REPORT_FIELDS
            + " } } }")
DELETE = ("mutation($id: ID!) { reportsDeleteReport(id: $id) { ok errors { field messages } } }")
RUN = ("mutation($id: ID!, $sort: Int, $desc: Boolean) { reportsRunReport(id: $id, "
       "sortColumn: $sort, descending: $desc) { ok errors { field messages } "
       "result { headings rows errors truncated csv } } }")


def gql(client, token, query, **variables) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert "errors" not in body, body
    return body["data"]


def field_errors(payload) -> dict:
    assert payload["ok"] is False, payload
    return {e["field"]: e["messages"] for e in payload["errors"]}


def make_invoices() -> list:
    """Three accounts (one named like a spreadsheet formula) billed for March 2026: three
    finalized invoices INV-000001..3 of 50.00 USD."""
    from backhaul.plugins.billing import catalogue, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account

    fiber = catalogue.create_service("Fiber 100", "recurring", "50.00", currency="USD")
    accounts = []
    for name in ("=HYPERLINK(\"http://evil.example\")", "Bea Baker", "Carl Cooper"):
        account = create_account(name=name)
        subs.subscribe(account.id, service=fiber, start_date=date(2026, 3, 1))
        accounts.append(account)
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    return accounts
