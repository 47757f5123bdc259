"""What people see: the usage query and summary in GraphQL, the account panel with its
source form (and the form's permission), and the usage lines in billing's own preview of
the run (the seam billing owns)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from usage_helpers import make_subscriber

from backhaul.plugins.radius import accounting as acct
from backhaul.plugins.usage import rollup
from backhaul.plugins.usage.models import SourceChoice
from backhaul.sdk import db


def _gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _usage(sub_id, gb_down, gb_up=0, source="radius"):
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rollup.add([rollup.Delta(sub_id, at, gb_down * 10**9, gb_up * 10**9, source)])
    db.session.commit()


def test_usage_graphql(app, staff_user, api_token):
    account, sub, _ = make_subscriber(app, allowance_gb=100)
    _usage(sub.id, 40, 10)
    _usage(sub.id, 7, 0, "netflow")
    token = api_token(staff_user(["usage.view", "usage.manage"]), "full")
    got = _gql(app, token, """query($s: ID!, $a: ID!) {
        usage(subscriptionId: $s, grain: HOUR) { nodes { source bytesDown bytesUp counted } }
        usageSummary(accountId: $a) { subscriptionId source bytesDown bytesUp allowanceBytes percent
          throttledKbps }
        usageUnattributed { nodes { bytes } } usageCollectorHealth }""",
               {"s": str(sub.id), "a": str(account.id)})["data"]
    assert sorted((p["source"], p["bytesDown"], p["counted"]) for p in got["usage"]["nodes"]) == [
        ("netflow", 7 * 10**9, False), ("radius", 40 * 10**9, True)]
    [summary] = got["usageSummary"]
    assert summary["source"] == "radius" and summary["allowanceBytes"] == 100 * 10**9
    assert summary["percent"] == 50.0 and summary["throttledKbps"] is None
    months = _gql(app, token, """query($s: ID!) { usageMonthly(subscriptionId: $s) {
        month source bytesDown bytesUp } }""", {"s": str(sub.id)})["data"]["usageMonthly"]
    assert months == [{"month": date.today().replace(day=1).isoformat(), "source": "radius",
                       "bytesDown": 40 * 10**9, "bytesUp": 10 * 10**9}]
    changed = _gql(app, token, """mutation($s: ID!) { usageSetSource(subscriptionId: $s,
        source: "netflow") { ok source } }""", {"s": str(sub.id)})["data"]["usageSetSource"]
    assert changed == {"ok": True, "source": "netflow"}
    bad = _gql(app, token, """mutation($s: ID!) { usageSetSource(subscriptionId: $s,
        source: "snmp") { ok errors { field } } }""", {"s": str(sub.id)})["data"]
    assert bad["usageSetSource"] == {"ok": False, "errors": [{"field": "source"}]}
    viewer = api_token(staff_user(["usage.view"]), "full")
    refused = _gql(app, viewer, """mutation($s: ID!) { usageSetSource(subscriptionId: $s,
        source: "radius") { ok } }""", {"s": str(sub.id)})
    assert refused.get("errors"), "usage.manage is needed"
    db.session.rollback()
    assert db.session.get(SourceChoice, sub.id).source == "netflow"


def test_account_panel_and_source_form(app, staff_user, login, csrf_token):
    account, sub, _ = make_subscriber(app, allowance_gb=100)
    _usage(sub.id, 85, 0)
    web = app.test_client()
    login(web, staff_user(["accounts.account.view", "usage.view", "usage.manage"]))
    page = web.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "85.00 of 100.00 GB" in page and "85.0%" in page and "Counted source" in page
    web.post(f"/usage/services/{sub.id}/source", data={
        "source": "netflow", "account_id": str(account.id), "csrf_token": csrf_token(web)})
    db.session.rollback()
    assert db.session.get(SourceChoice, sub.id).source == "netflow"
    page = web.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "0.00 of 100.00 GB" in page, "only the counted source (netflow: nothing yet)"
    viewer = app.test_client()
    login(viewer, staff_user(["accounts.account.view", "usage.view"]))
    assert viewer.post(f"/usage/services/{sub.id}/source", data={
        "source": "radius", "csrf_token": csrf_token(viewer)}).status_code == 403


def test_usage_page_and_top_users(app, staff_user, login, api_token):
    from backhaul.plugins.usage.models import Unattributed

    a_account, a, _ = make_subscriber(app, "Heavy", allowance_gb=100)
    b_account, b, _ = make_subscriber(app, "Light", address="100.64.20.8")
    _usage(a.id, 90, 5)
    _usage(b.id, 2, 1)
    _usage(b.id, 500, 0, "netflow")  # not counted: b counts radius
    db.session.add(Unattributed(exporter="192.0.2.10", hour=datetime.now(UTC).replace(
        minute=0, second=0, microsecond=0), bytes=3 * 10**9, flows=42))
    db.session.commit()
    token = api_token(staff_user(["usage.view"]), "full")
    top = _gql(app, token, "{ usageTop(first: 5) { subscriptionId accountId bytesDown percent } }")
    assert [(int(t["subscriptionId"]), t["bytesDown"], t["percent"])
            for t in top["data"]["usageTop"]] == [(a.id, 90 * 10**9, 95.0),
                                                  (b.id, 2 * 10**9, None)]
    web = app.test_client()
    login(web, staff_user(["usage.view"]))
    page = web.get("/usage/").get_data(as_text=True)
    assert "Fiber Heavy" in page and "95.0% of 100.00 GB" in page
    assert "192.0.2.10" in page and "3.00" in page and "No collector has reported yet" in page
    outsider = app.test_client()
    login(outsider, staff_user(["accounts.account.view"]))
    assert outsider.get("/usage/").status_code == 403


def test_billing_preview_shows_free_and_billable_usage(app):
    """Through billing's own preview of the run (same code as the run): 100 GB allowance,
    130 GB used last month -> 100 GB free, 30 GB at 1.00."""
    from backhaul.plugins.billing import run

    account, sub, device = make_subscriber(app, allowance_gb=100)
    user = f"pppoe{sub.id}"
    first = date.today().replace(day=1)
    at = datetime.combine(first, datetime.min.time(), UTC) + timedelta(hours=12)
    acct.record(device.id, acct.Update(acct.START, "s", user, at), subscription_id=sub.id,
                account_id=account.id)
    acct.record(device.id, acct.Update(acct.STOP, "s", user, at + timedelta(minutes=3),
                                       input_octets=30 * 10**9, output_octets=100 * 10**9),
                subscription_id=sub.id, account_id=account.id)
    db.session.commit()
    next_month = (first + timedelta(days=32)).replace(day=1)
    _, items = run.preview(next_month, account_ids=[account.id], limit=50)
    lines = [(line.description, line.quantity, line.amount.amount)
             for item in items if item.draft is not None and item.period_start == next_month
             for line in item.draft.lines if line.kind == "usage"]
    assert [(q, a) for _, q, a in lines] == [(100, 0), (30, 3000)], lines
    assert all(item.error is None for item in items), [i.error for i in items]
