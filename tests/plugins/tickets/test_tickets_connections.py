"""Every tickets list on ``Query`` is a connection (issue 21): pages walk with first/after,
totalCount counts every match, a filter narrows, a sort orders, an unknown sort is refused.
Expectations come from the rows seeded here."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tickets_helpers import BILLING, SUPPORT

from backhaul.sdk import db

WORK = ["tickets.ticket.view", "tickets.ticket.work", "tickets.settings.manage"]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def post(client, token, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).get_json()


@pytest.fixture
def seeded(app, desk, staff_user, api_token):
    """Three rows of each list (desk: groups Support, Billing; category Outage; addresses
    support@ and billing@; canned reply 'Outage known')."""
    from backhaul.plugins.tickets import canned, config
    from backhaul.plugins.tickets.models import ImapMailbox, InboundAddress, InboundMail, Ticket

    support, billing = desk
    config.save_group("Escalations")
    config.save_category("Billing query")
    config.save_category("Router")
    config.save_inbound_address({"address": "sales@isp.example.net", "name": "Sales",
                                 "groupId": billing.id})
    canned.save({"name": "Bill explained", "body": "See your invoice.", "groupId": billing.id})
    canned.save({"name": "Thanks", "body": "Thank you."})
    support_address = db.session.query(InboundAddress).filter_by(address=SUPPORT).one()
    for name, host, enabled in (("Alpha", "b.example", True), ("Beta", "a.example", True),
                                ("Gamma", "c.example", False)):
        db.session.add(ImapMailbox(name=name, host=host, username="desk", secrets="",
                                   inbound_address_id=support_address.id, enabled=enabled))
    for i, (subject, status) in enumerate((("A", "open"), ("B", "solved"), ("C", "open"))):
        db.session.add(Ticket(token=f"TK{i}", subject=subject, status=status,
                              group_id=support.id if subject != "B" else billing.id,
                              created_at=T0 + timedelta(hours=i),
                              last_activity_at=T0 + timedelta(hours=i)))
    for i, (subject, outcome) in enumerate((("m1", "ticket"), ("m2", "held"),
                                            ("m3", "held"))):
        db.session.add(InboundMail(received_at=T0 + timedelta(minutes=i), subject=subject,
                                   mail_from="tina@example.net", rcpt_to=SUPPORT,
                                   outcome=outcome, raw=b""))
    db.session.commit()
    token = api_token(staff_user(WORK, name="Sam Support"), "full")
    client = app.test_client()
    for name, shared in (("Urgent", True), ("Mine", False), ("All open", False)):
        saved = post(client, token, """mutation($n: String!, $s: Boolean) {
          ticketsSaveView(input: {name: $n, shared: $s}) { ok } }""", n=name, s=shared)
        assert saved["data"]["ticketsSaveView"]["ok"], saved
    return client, token, {"support": str(support.id), "billing": str(billing.id)}


# field, node key, default order, (filter, expected), (sort, expected)
CASES = [
    ("ticketsGroups", "name", ["Billing", "Escalations", "Support"],
     ({"search": "ESC"}, ["Escalations"]), ("-name", ["Support", "Escalations", "Billing"])),
    ("ticketsCategories", "name", ["Billing query", "Outage", "Router"],
     ({"search": "out"}, ["Outage", "Router"]), ("-name", ["Router", "Outage", "Billing query"])),
    ("ticketsInboundAddresses", "address", [BILLING, "sales@isp.example.net", SUPPORT],
     ({"groupId": "billing"}, [BILLING, "sales@isp.example.net"]),
     ("-name", [SUPPORT, "sales@isp.example.net", BILLING])),
    ("ticketsCannedReplies", "name", ["Bill explained", "Outage known", "Thanks"],
     ({"groupId": "billing"}, ["Bill explained"]),
     ("-name", ["Thanks", "Outage known", "Bill explained"])),
    ("ticketsSavedViews", "name", ["All open", "Mine", "Urgent"],
     ({"shared": True}, ["Urgent"]), ("-name", ["Urgent", "Mine", "All open"])),
    ("ticketsImapMailboxes", "name", ["Alpha", "Beta", "Gamma"],
     ({"enabled": False}, ["Gamma"]), ("host", ["Beta", "Alpha", "Gamma"])),
    ("ticketsInboundMail", "subject", ["m3", "m2", "m1"],
     ({"outcome": "held"}, ["m3", "m2"]), ("receivedAt", ["m1", "m2", "m3"])),
    ("ticketsTickets", "subject", ["C", "B", "A"],
     ({"status": "open"}, ["C", "A"]), ("subject", ["A", "B", "C"])),
]


@pytest.mark.parametrize("field, key, default, filtered, sorted_", CASES,
                         ids=[c[0] for c in CASES])
def test_lists_are_connections(seeded, field, key, default, filtered, sorted_):
    client, token, ids = seeded
    query = f"""query($first: Int, $after: String, $filter: {FILTERS[field]}, $sort: String) {{
      {field}(first: $first, after: $after, filter: $filter, sort: $sort) {{
        totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {key} }} }} }}"""

    def page(**variables):
        body = post(client, token, query, **variables)
        assert "errors" not in body, body
        return body["data"][field]

    first = page(first=2)
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    rest = page(first=2, after=first["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [n[key] for n in first["nodes"] + rest["nodes"]] == default

    where, expected = filtered
    where = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in where.items()}
    narrowed = page(filter=where)
    assert [n[key] for n in narrowed["nodes"]] == expected
    assert narrowed["totalCount"] == len(expected)

    sort, expected = sorted_
    assert [n[key] for n in page(sort=sort)["nodes"]] == expected

    refused = post(client, token, query, sort="password")
    assert refused["data"] is None or refused["data"].get(field) is None
    assert "Cannot sort by 'password'" in refused["errors"][0]["message"]


FILTERS = {"ticketsGroups": "TicketsNameFilter", "ticketsCategories": "TicketsNameFilter",
           "ticketsInboundAddresses": "TicketsInboundAddressFilter",
           "ticketsCannedReplies": "TicketsCannedReplyFilter",
           "ticketsSavedViews": "TicketsSavedViewFilter",
           "ticketsImapMailboxes": "TicketsImapMailboxFilter",
           "ticketsInboundMail": "TicketsInboundMailFilter",
           "ticketsTickets": "TicketsTicketFilter"}


@pytest.mark.parametrize("field, where, message", [
    ("ticketsTickets", '{status: "bogus"}', "status"),
    ("ticketsTickets", '{groupId: "abc"}', "groupId"),
    ("ticketsInboundMail", '{outcome: "lost"}', "outcome"),
])
def test_bad_filter_values_are_user_errors(seeded, field, where, message):
    client, token, _ = seeded
    body = post(client, token, f"{{ {field}(filter: {where}) {{ totalCount }} }}")
    [error] = body["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
