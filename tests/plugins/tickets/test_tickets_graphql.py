"""GraphQL: every desk action with field-level errors, the reply leaving through the
notifications plugin from the address the ticket came in on, canned replies (variables,
preview, bounds), and the permissions behind them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from tickets_helpers import BILLING, mail, tickets

from backhaul.sdk import db

WORK = ["tickets.ticket.view", "tickets.ticket.work", "tickets.settings.manage"]
TICKET_FIELDS = "id token subject status priority group { name } accountId requesterEmail"


def gql(client, token, query, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def token(app, staff_user, api_token):
    return api_token(staff_user(WORK, name="Sam Support"), "full")


@pytest.fixture
def client(app):
    return app.test_client()


def _errors(payload) -> dict:
    assert payload["ok"] is False, payload
    return {e["field"]: e["messages"] for e in payload["errors"]}


OPEN = ("mutation($input: TicketsOpenInput!) { ticketsOpenTicket(input: $input) {"
        " ok errors { field messages } ticket { " + TICKET_FIELDS + " } } }")


@pytest.mark.parametrize("given, field", [
    ({"subject": "", "groupId": "G"}, "subject"),
    ({"subject": "x" * 301, "groupId": "G"}, "subject"),
    ({"subject": "Hi", "groupId": "999"}, "groupId"),
    ({"subject": "Hi", "groupId": "abc"}, "groupId"),
    ({"subject": "Hi", "groupId": "G", "priority": "whenever"}, "priority"),
    ({"subject": "Hi", "groupId": "G", "accountId": "999"}, "accountId"),
    ({"subject": "Hi", "groupId": "G", "assigneeId": "999"}, "assigneeId"),
    ({"subject": "Hi", "groupId": "G", "body": "\x00"}, "body"),
])
def test_open_ticket_refuses_bad_input_by_field(app, client, token, desk, given, field):
    support, _ = desk
    given = {k: (str(support.id) if v == "G" else v) for k, v in given.items()}
    payload = gql(client, token, OPEN, input=given)["ticketsOpenTicket"]
    assert field in _errors(payload)
    assert tickets() == []


def test_open_update_reply_note_and_list(app, client, token, desk, tenant, email_channel,
                                         relay):
    support, billing = desk
    account, contact = tenant
    opened = gql(client, token, OPEN, input={
        "subject": "Phoned: slow in the evening", "groupId": str(support.id),
        "accountId": str(account.id), "priority": "high", "body": "Since Tuesday."}
    )["ticketsOpenTicket"]
    assert opened["ok"], opened
    ticket = opened["ticket"]
    assert ticket["requesterEmail"] == "tina@example.net" and ticket["priority"] == "high"

    bad = gql(client, token, """mutation($id: ID!) { ticketsUpdateTicket(id: $id,
      input: {status: "done"}) { ok errors { field messages } } }""", id=ticket["id"])
    assert "status" in _errors(bad["ticketsUpdateTicket"])
    moved = gql(client, token, """mutation($id: ID!, $g: ID!) { ticketsUpdateTicket(id: $id,
      input: {groupId: $g, categoryId: null}) { ok ticket { group { name } } } }""",
                id=ticket["id"], g=str(billing.id))["ticketsUpdateTicket"]
    assert moved == {"ok": True, "ticket": {"group": {"name": "Billing"}}}

    empty = gql(client, token, """mutation($id: ID!) { ticketsReply(ticketId: $id, body: "  ")
      { ok errors { field messages } } }""", id=ticket["id"])["ticketsReply"]
    assert "body" in _errors(empty)
    sent = gql(client, token, """mutation($id: ID!) { ticketsReply(ticketId: $id,
      body: "Fixed on our side.", status: "solved") { ok emailed message { kind fromAddress
      toAddress notificationId } } }""", id=ticket["id"])["ticketsReply"]
    assert sent["ok"] and sent["emailed"]
    # answered from the address of the group's inbound address (no mail came in)
    assert sent["message"]["fromAddress"] == BILLING
    assert sent["message"]["toAddress"] == "tina@example.net"
    [received] = relay.wait_for(1)
    assert received.message["From"].addresses[0].addr_spec == BILLING
    assert received.message["Reply-To"] == BILLING
    assert "Fixed on our side." in received.message.get_content()

    note = gql(client, token, """mutation($id: ID!) { ticketsAddNote(ticketId: $id,
      body: "Customer is happy.") { ok emailed message { kind } } }""", id=ticket["id"])
    assert note["ticketsAddNote"] == {"ok": True, "emailed": False,
                                      "message": {"kind": "note"}}

    listed = gql(client, token, """query($g: ID!) { ticketsTickets(first: 5,
      filter: {groupId: $g, status: "solved", search: "slow"}) { totalCount
      nodes { token messages { kind } } } }""", g=str(billing.id))["ticketsTickets"]
    assert listed["totalCount"] == 1
    assert [m["kind"] for m in listed["nodes"][0]["messages"]] == ["note", "reply", "note"]


def test_a_reply_answers_from_the_address_the_mail_came_in_on_and_threads(
        app, client, token, desk, tenant, email_channel, relay):
    from backhaul.plugins.tickets.mailin import ingest

    ingest(mail("Bill too high", to=BILLING, Message_ID="<q1@example.net>").as_bytes(),
           "tina@example.net", [BILLING])
    db.session.commit()
    relay.wait_for(1)  # the acknowledgement
    [ticket] = tickets()
    gql(client, token, """mutation($id: ID!) { ticketsReply(ticketId: $id, body: "Checked.")
      { ok } }""", id=str(ticket.id))
    received = relay.wait_for(2)[1].message
    assert received["From"].addresses[0].addr_spec == BILLING
    assert received["In-Reply-To"] == "<q1@example.net>"
    assert "<q1@example.net>" in received["References"]
    assert f"[#{ticket.token}]" in received["Subject"]
    db.session.rollback()
    from backhaul.plugins.notifications.models import Message

    log = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
    assert [m.status for m in log] == ["sent", "sent"]
    assert log[1].account_id == ticket.account_id  # on the account's timeline too


def test_reply_without_an_email_channel_is_kept_and_reported(app, client, token, desk, tenant):
    from backhaul.plugins.tickets import desk as tickets_desk

    ticket = tickets_desk.open_ticket({"subject": "Call", "groupId": desk[0].id,
                                       "accountId": tenant[0].id})
    db.session.commit()
    sent = gql(client, token, """mutation($id: ID!) { ticketsReply(ticketId: $id, body: "Hi")
      { ok emailed message { notificationId } } }""", id=str(ticket.id))["ticketsReply"]
    assert sent == {"ok": True, "emailed": False, "message": {"notificationId": None}}


SAVE_CANNED = """mutation($input: TicketsCannedReplyInput!) { ticketsSaveCannedReply(
  input: $input) { ok errors { field messages } cannedReply { id name } } }"""


@pytest.mark.parametrize("body, expected", [
    ("Hello {{ contact.nmae }}", "line 1: unknown variable 'contact.nmae'"),
    ("Hi\n{% for x in range(10) %}", "line 2"),
    ("{% for i in range(5000) %}x{% endfor %}", "at most 1,000 items"),
    ("{{ 'a' * 10000000 }}", "at most 100,000 items"),
    ("{{ ().__class__ }}", ""),
    ("", "1-20,000 characters"),
])
def test_canned_replies_are_checked_when_saved(app, client, token, desk, body, expected):
    payload = gql(client, token, SAVE_CANNED, input={"name": "Bad", "body": body}
                  )["ticketsSaveCannedReply"]
    assert expected in " ".join(_errors(payload)["body"])


def test_canned_reply_preview_fills_in_the_ticket(app, client, token, desk, tenant):
    from backhaul.plugins.tickets import desk as tickets_desk
    from backhaul.plugins.tickets.models import CannedReply

    account, _ = tenant
    ticket = tickets_desk.open_ticket({"subject": "Slow", "groupId": desk[0].id,
                                       "accountId": account.id})
    db.session.commit()
    canned_id = db.session.scalar(sa.select(CannedReply.id))
    preview = gql(client, token, """query($t: ID!, $c: ID) { ticketsPreviewCannedReply(
      ticketId: $t, cannedReplyId: $c) { body error } }""", t=str(ticket.id), c=str(canned_id))
    assert preview["ticketsPreviewCannedReply"] == {
        "body": f"Hello Tina Tenant,\nticket {ticket.token} for account {account.number}: "
                "we are on it.", "error": None}
    unsaved = gql(client, token, """query($t: ID!) { ticketsPreviewCannedReply(ticketId: $t,
      body: "{{ staff.name }} / {{ nope }}") { body error } }""", t=str(ticket.id))
    assert "unknown variable 'nope'" in unsaved["ticketsPreviewCannedReply"]["error"]
    signed = gql(client, token, """query($t: ID!) { ticketsPreviewCannedReply(ticketId: $t,
      body: "{{ staff.name }}") { body } }""", t=str(ticket.id))
    assert signed["ticketsPreviewCannedReply"]["body"] == "Sam Support"


@pytest.mark.parametrize("given, field", [
    ({"address": "not-an-address", "groupId": "G"}, "address"),
    ({"address": "SUPPORT@isp.example.net", "groupId": "G"}, "address"),  # exists
    ({"address": "new@isp.example.net", "groupId": "12345"}, "groupId"),
    ({"address": "new@isp.example.net", "groupId": "G", "categoryId": "777"}, "categoryId"),
])
def test_inbound_addresses_are_checked(app, client, token, desk, given, field):
    given = {k: (str(desk[0].id) if v == "G" else v) for k, v in given.items()}
    payload = gql(client, token, """mutation($input: TicketsInboundAddressInput!) {
      ticketsSaveInboundAddress(input: $input) { ok errors { field messages } } }""",
                  input=given)["ticketsSaveInboundAddress"]
    assert field in _errors(payload)


def test_groups_and_categories_refuse_duplicates(app, client, token, desk):
    payload = gql(client, token, """mutation { ticketsSaveGroup(name: "Support") {
      ok errors { field messages } } }""")["ticketsSaveGroup"]
    assert "name" in _errors(payload)
    added = gql(client, token, """mutation { ticketsSaveCategory(name: "Move-in") {
      ok category { name } } }""")["ticketsSaveCategory"]
    assert added == {"ok": True, "category": {"name": "Move-in"}}


def test_viewers_cannot_act(app, staff_user, api_token, desk):
    token = api_token(staff_user(["tickets.ticket.view"]), "full")
    response = app.test_client().post("/graphql", json={"query": """mutation {
      ticketsSaveGroup(name: "X") { ok } }"""}, headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["errors"]
    listed = gql(app.test_client(), token, "{ ticketsGroups { nodes { name } } }")
    assert [g["name"] for g in listed["ticketsGroups"]["nodes"]] == ["Billing", "Support"]


def test_saved_views_over_graphql(app, client, token, desk):
    bad = gql(client, token, """mutation { ticketsSaveView(input: {name: "x",
      sort: "password"}) { ok errors { field messages } } }""")["ticketsSaveView"]
    assert "sort" in _errors(bad)
    bad = gql(client, token, """mutation { ticketsSaveView(input: {name: "x",
      groupId: "abc"}) { ok errors { field messages } } }""")["ticketsSaveView"]
    assert "groupId" in _errors(bad)
    made = gql(client, token, """mutation($g: ID) { ticketsSaveView(input: {name: "Mine",
      groupId: $g, sort: "-activity", shared: true}) { ok savedView { id name shared filters }
      } }""", g=str(desk[0].id))["ticketsSaveView"]
    assert made["ok"] and made["savedView"]["shared"] is True
    assert made["savedView"]["filters"] == {"group": str(desk[0].id), "sort": "-activity"}
    listed = gql(client, token, "{ ticketsSavedViews { nodes { name } } }")["ticketsSavedViews"]
    assert listed["nodes"] == [{"name": "Mine"}]
    gone = gql(client, token, """mutation($id: ID!) { ticketsDeleteView(id: $id) { ok } }""",
               id=made["savedView"]["id"])
    assert gone["ticketsDeleteView"]["ok"]


@pytest.mark.parametrize("query", [
    'mutation { ticketsSaveGroup(name: "a\\u0000") { ok errors { field } } }',
    'mutation { ticketsSaveCategory(name: "a\\u0000") { ok errors { field } } }',
    'mutation { ticketsSaveCannedReply(input: {name: "a\\u0000", body: "x"}) '
    '{ ok errors { field } } }',
    'mutation { ticketsSaveView(input: {name: "a\\u0000"}) { ok errors { field } } }',
    'mutation { ticketsSaveView(input: {name: "Mine", search: "a\\u0000"}) '
    '{ ok errors { field } } }',
])
def test_a_nul_character_is_a_field_error_not_a_server_error(app, client, token, desk, query):
    """Found by the fuzzer: PostgreSQL refuses NUL in text, which answered INTERNAL_ERROR."""
    [payload] = gql(client, token, query).values()
    assert payload["ok"] is False and payload["errors"][0]["field"] in ("name", "search")


def test_a_nul_character_in_a_list_filter_is_a_user_error(app, client, token, desk):
    body = client.post("/graphql", json={"query": '{ ticketsTickets(filter: {search: "\\u0000"})'
                                                  " { totalCount } }"},
                       headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in body["errors"][0]["message"]
