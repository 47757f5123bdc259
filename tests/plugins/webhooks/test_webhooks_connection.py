"""``webhooksEndpoints`` as a connection (issue 21): pages, totalCount, filters (search,
enabled, the event an endpoint receives through *, prefix.* or its key), sorts, and an
unknown sort key refused."""
from __future__ import annotations

SAVE = """mutation($input: NotificationsChannelInput!) {
  notificationsSaveChannel(channelKey: "webhook", input: $input) { ok errors { field messages } } }"""
QUERY = """query($f: WebhooksEndpointFilter, $first: Int, $after: String, $sort: String) {
  webhooksEndpoints(filter: $f, first: $first, after: $after, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name url events enabled } } }"""


def _post(client, token, query, variables):
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


def test_endpoints_pages_filters_and_sorts(app, staff_user, api_token):
    token = api_token(staff_user(["webhooks.view", "notifications.channels.view",
                                  "notifications.channels.manage"]), "full")
    client = app.test_client()
    for name, url, events, enabled in (
            ("ERP", "http://127.0.0.1:9/erp", ["payment.*"], True),
            ("Billing archive", "http://127.0.0.1:9/archive", ["invoice.finalized"], True),
            ("Everything", "http://127.0.0.1:9/all", ["*"], False)):
        saved = _post(client, token, SAVE, {"input": {
            "name": name, "enabled": enabled,
            "settings": {"url": url, "secret": "s3cret-s3cret-s3cret", "events": events}}})
        assert saved["data"]["notificationsSaveChannel"]["ok"], saved

    def walk(filter_=None, sort=None, first=1):
        names, after, totals = [], None, set()
        while True:
            body = _post(client, token, QUERY, {"f": filter_, "first": first, "after": after,
                                                "sort": sort})
            assert "errors" not in body, body
            page = body["data"]["webhooksEndpoints"]
            totals.add(page["totalCount"])
            names += [n["name"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                assert totals == {len(names)}
                return names
            after = page["pageInfo"]["endCursor"]

    assert walk() == ["Billing archive", "ERP", "Everything"]
    assert walk(first=2, sort="-name") == ["Everything", "ERP", "Billing archive"]
    assert walk(sort="url") == ["Everything", "Billing archive", "ERP"]
    assert walk({"enabled": False}) == ["Everything"]
    assert walk({"event": "payment.received"}) == ["ERP", "Everything"]
    assert walk({"event": "invoice.finalized", "enabled": True}) == ["Billing archive"]
    assert walk({"event": "paymentX"}) == ["Everything"]
    assert walk({"search": "ARCHIVE"}) == ["Billing archive"]

    refused = _post(client, token, QUERY, {"sort": "events"})
    assert refused["data"] is None and "use one of" in refused["errors"][0]["message"]
