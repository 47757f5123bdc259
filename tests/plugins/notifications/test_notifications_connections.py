"""The notifications lists on ``Query`` are connections (issue 21): pages walk with
first/after, totalCount counts every match, a filter narrows, a sort orders, an unknown sort
is refused. Expectations come from the rows (and in-test event types) seeded here."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from notif_helpers import save

from backhaul.sdk import db

PERMS = ["notifications.messages.view", "notifications.templates.view",
         "notifications.channels.view"]
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def post(client, token, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).get_json()


@pytest.fixture
def seeded(app, staff_user, api_token, http_receiver):
    """Channels Hook B, Hook A, Hook C (disabled), in that order; messages to r1, r2, r3
    (sent, failed, sent), oldest first; e-mail templates of three in-test events."""
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.plugins.notifications.models import Message

    channels = [save_channel("webhook", {
        "name": name, "enabled": enabled,
        "settings": {"url": http_receiver.url, "secret": "0123456789abcdef"}})
        for name, enabled in (("Hook B", True), ("Hook A", True), ("Hook C", False))]
    db.session.flush()
    for i, status in enumerate(("sent", "failed", "sent")):
        db.session.add(Message(idempotency_key=f"k{i}", event_key="testinvoices.outage",
                               category="outages", channel_id=channels[0].id,
                               medium="webhook", recipient=f"r{i + 1}@example.net",
                               status=status, created_at=T0 + timedelta(minutes=i)))
    db.session.commit()
    for key in ("testinvoices.outage", "testinvoices.invoice_due",
                "testinvoices.password_changed"):
        save(key, "email", subject="Notice", body_text="Hello.")
    return app.test_client(), api_token(staff_user(PERMS), "read")


OWN = {"search": "testinvoices."}  # only the in-test plugin's event types
# root field, filter type, node key, base filter, default order, (filter, expected),
# (sort, expected)
CASES = [
    ("notificationsMessages", "NotificationsMessageFilter", "recipient", {},
     ["r3@example.net", "r2@example.net", "r1@example.net"],
     ({"status": "sent"}, ["r3@example.net", "r1@example.net"]),
     ("createdAt", ["r1@example.net", "r2@example.net", "r3@example.net"])),
    ("notificationsChannels", "NotificationsChannelFilter", "name", {},
     ["Hook B", "Hook A", "Hook C"], ({"enabled": False}, ["Hook C"]),
     ("name", ["Hook A", "Hook B", "Hook C"])),
    ("notificationsTemplates", "NotificationsTemplateFilter", "eventKey", {},
     ["testinvoices.invoice_due", "testinvoices.outage", "testinvoices.password_changed"],
     ({"eventKey": "testinvoices.outage"}, ["testinvoices.outage"]),
     ("-eventKey", ["testinvoices.password_changed", "testinvoices.outage",
                    "testinvoices.invoice_due"])),
    ("notificationsEventTypes", "NotificationsEventTypeFilter", "key", OWN,
     ["testinvoices.invoice_due", "testinvoices.outage", "testinvoices.password_changed",
      "testinvoices.suspended"],
     ({**OWN, "category": "billing"}, ["testinvoices.invoice_due", "testinvoices.suspended"]),
     ("-label", ["testinvoices.suspended", "testinvoices.outage",
                 "testinvoices.password_changed", "testinvoices.invoice_due"])),
]


@pytest.mark.parametrize("root, filter_type, key, base, default, filtered, sorted_", CASES,
                         ids=[c[0] for c in CASES])
def test_lists_are_connections(seeded, root, filter_type, key, base, default, filtered,
                               sorted_):
    client, token = seeded
    query = f"""query($first: Int, $after: String, $filter: {filter_type}, $sort: String) {{
      {root}(first: $first, after: $after, filter: $filter, sort: $sort) {{
        totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {key} }} }} }}"""

    def page(**variables):
        body = post(client, token, query, **variables)
        assert "errors" not in body, body
        return body["data"][root]

    first = page(first=2, filter=base)
    assert first["totalCount"] == len(default) and first["pageInfo"]["hasNextPage"] is True
    rest = page(first=len(default), after=first["pageInfo"]["endCursor"], filter=base)
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [n[key] for n in first["nodes"] + rest["nodes"]] == default

    where, expected = filtered
    narrowed = page(filter=where)
    assert [n[key] for n in narrowed["nodes"]] == expected
    assert narrowed["totalCount"] == len(expected)

    sort, expected = sorted_
    assert [n[key] for n in page(sort=sort, filter=base)["nodes"]] == expected

    refused = post(client, token, query, sort="password")
    assert "Cannot sort by 'password'" in refused["errors"][0]["message"]
