"""GraphQL: the delivery log, event types, template save with field errors, preview."""
from __future__ import annotations

from datetime import date

from notif_helpers import save

from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.models import MessageTemplate
from backhaul.sdk import Money, db

PERMS = ["notifications.messages.view", "notifications.messages.manage",
         "notifications.templates.view", "notifications.templates.manage",
         "notifications.channels.view", "accounts.account.view"]


def gql(client, token, query, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})
    body = response.get_json()
    assert "errors" not in body, body
    return body["data"]


def test_messages_event_types_and_channels(app, staff_user, api_token, http_receiver,
                                           household):
    from backhaul.plugins.notifications.channel_store import save_channel

    account, _, _ = household
    http_receiver.statuses = [500]
    save_channel("webhook", {"name": "Hook", "settings": {"url": http_receiver.url,
                                                          "secret": "0123456789abcdef"}})
    db.session.commit()
    notify("testinvoices.outage", account.id, {"outage": {"when": "soon"}})
    db.session.commit()
    token = api_token(staff_user(PERMS), "read")
    client = app.test_client()

    data = gql(client, token, """query($account: ID) {
      notificationsMessages(first: 5, filter: {accountId: $account}) {
        totalCount
        nodes { eventKey medium recipient status attempts channel { name medium }
                log { event attempt detail } }
      }
      notificationsChannels { nodes { name channelKey medium enabled } }
      notificationsEventTypes(first: 100) { nodes { key category essential
                                                    variables { name example } } }
    }""", account=str(account.id))
    conn = data["notificationsMessages"]
    assert conn["totalCount"] == 1
    [node] = conn["nodes"]
    assert (node["eventKey"], node["medium"], node["status"], node["attempts"]) == \
        ("testinvoices.outage", "webhook", "sent", 2)
    assert [e["event"] for e in node["log"]] == ["queued", "retry", "sent"]
    assert "HTTP 500" in node["log"][1]["detail"]
    assert data["notificationsChannels"]["nodes"] == [{"name": "Hook", "channelKey": "webhook",
                                              "medium": "webhook", "enabled": True}]
    types = {t["key"]: t for t in data["notificationsEventTypes"]["nodes"]}
    assert types["accounts.suspended"]["essential"] is True
    invoice = types["testinvoices.invoice_due"]
    assert invoice["category"] == "billing"
    assert {"name": "invoice.total", "example": "10.00 USD"} in invoice["variables"]
    assert {"name": "account.number", "example": "A000123"} in invoice["variables"]


def test_save_template_field_errors_and_preview(app, staff_user, api_token, household):
    account, _, _ = household
    token = api_token(staff_user(PERMS), "full")
    client = app.test_client()
    mutation = """mutation($input: NotificationsTemplateInput!) {
      notificationsSaveTemplate(eventKey: "testinvoices.invoice_due", medium: "email",
                                input: $input) {
        ok errors { field messages } template { eventKey subject bodyText enabled }
      }
    }"""
    bad = gql(client, token, mutation, input={"subject": "Invoice",
                                              "bodyText": "Hi\n{{ invoice.nope }}"})
    assert bad["notificationsSaveTemplate"]["ok"] is False
    assert bad["notificationsSaveTemplate"]["errors"] == [
        {"field": "bodyText", "messages": [
            "line 2: unknown variable 'invoice.nope' (see the variables available for this "
            "event)"]}]
    assert db.session.query(MessageTemplate).count() == 0

    good = gql(client, token, mutation, input={
        "subject": "Invoice {{ invoice.number }}",
        "bodyText": "Your invoice {{ invoice.number }} of {{ invoice.total }} is due on "
                    "{{ invoice.due_date }}"})["notificationsSaveTemplate"]
    assert good["ok"] and good["template"]["subject"] == "Invoice {{ invoice.number }}"
    assert db.session.query(MessageTemplate).count() == 1

    preview = gql(client, token, """query($account: ID!) {
      notificationsPreview(eventKey: "testinvoices.invoice_due", medium: "email",
                           accountId: $account,
                           input: {subject: "Inv {{ invoice.number }}",
                                   bodyText: "{{ invoice.total }} due {{ invoice.due_date }}"}) {
        subject bodyText recipients error
      }
    }""", account=str(account.id))["notificationsPreview"]
    assert preview["subject"] == f"Inv INV-{account.id:04d}"
    assert preview["bodyText"].startswith("49.99 USD due 2026-12-15")
    assert preview["recipients"] == ["landlord@example.net"] and preview["error"] is None


def test_retry_mutation(app, staff_user, api_token, smtp_down, email_channel, household):
    from backhaul.plugins.notifications.models import Message

    account, _, _ = household
    email_channel(smtp_down.port)
    save("testinvoices.invoice_due", "email", subject="Inv", body_text="{{ invoice.number }}")
    [mid] = notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "1", "total": Money(1, "USD"), "due_date": date(2026, 1, 1)}})
    db.session.commit()
    assert db.session.get(Message, mid).status == "failed"
    smtp_down.start()
    token = api_token(staff_user(PERMS), "full")
    data = gql(app.test_client(), token, """mutation($id: ID!) {
      notificationsRetryMessage(id: $id) { ok errors { field messages } message { status } }
    }""", id=str(mid))["notificationsRetryMessage"]
    assert data["ok"] and data["message"]["status"] == "queued"
    db.session.expire_all()
    assert db.session.get(Message, mid).status == "sent"
    assert len(smtp_down.wait_for(1)) == 1


def test_notices_channel_tests_and_cancel_over_graphql(app, staff_user, api_token,
                                                       http_receiver, household):
    """The four page actions that had no mutation (issue 10, "Also")."""
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.plugins.notifications.models import Notice

    token = api_token(staff_user(PERMS + ["notifications.notices.send",
                                          "notifications.channels.manage"]), "full")
    client = app.test_client()
    channel = save_channel("webhook", {"name": "Ops hook", "settings": {
        "url": http_receiver.url, "secret": "s" * 32}})
    db.session.commit()
    tested = gql(client, token, """mutation($id: ID!) { notificationsTestChannel(id: $id) {
        ok delivered detail errors { field } } }""", id=str(channel.id))[
        "notificationsTestChannel"]
    assert tested["ok"] and tested["delivered"] and len(http_receiver.requests) == 1
    bad = gql(client, token, """mutation { notificationsDraftNotice(input: {title: "",
        media: ["email"]}) { ok errors { field } } }""")["notificationsDraftNotice"]
    assert bad["ok"] is False and bad["errors"][0]["field"] == "title"
    draft = gql(client, token, """mutation { notificationsDraftNotice(input: {
        title: "Fiber cut", media: ["email"], subject: "Outage", bodyText: "We are on it.",
        statuses: ["active"]}) { ok errors { field messages } notice { id status } } }""")[
        "notificationsDraftNotice"]
    assert draft["ok"], draft
    assert draft["notice"]["status"] == "draft"
    sent = gql(client, token, """mutation($id: ID!) { notificationsSendNotice(id: $id) {
        ok notice { status } } }""", id=draft["notice"]["id"])["notificationsSendNotice"]
    assert sent["ok"] and sent["notice"]["status"] != "draft"
    again = gql(client, token, """mutation($id: ID!) { notificationsSendNotice(id: $id) {
        ok errors { messages } } }""", id=draft["notice"]["id"])["notificationsSendNotice"]
    assert again["ok"] is False and "sent already" in again["errors"][0]["messages"][0]
    assert db.session.get(Notice, int(draft["notice"]["id"])) is not None


FOUND = ["notifications.templates.manage", "notifications.channels.manage",
         "notifications.notices.send", "notifications.messages.view", "accounts.account.view"]


def _answer(app, token, query, **variables) -> dict:
    body = app.test_client().post("/graphql", json={"query": query, "variables": variables},
                                  headers={"Authorization": f"Bearer {token}"}).get_json()
    assert not [e for e in body.get("errors", [])
                if e.get("extensions", {}).get("code") == "INTERNAL_ERROR"], body
    return body


def test_found_by_the_fuzzer_refused_without_a_server_error(app, staff_user, api_token,
                                                            household):
    """Each of these answered INTERNAL_ERROR: a refused channel test (a null detail), channel
    settings that are not an object, a NUL character (the database refuses it) in a channel
    name, a template, a notice or a list filter, and a malformed account id in a preview."""
    account, _, _ = household
    token = api_token(staff_user(FOUND), "full")
    tested = _answer(app, token, """mutation { notificationsTestChannel(id: "999999") {
      ok delivered detail errors { field } } }""")["data"]["notificationsTestChannel"]
    assert tested == {"ok": False, "delivered": False, "detail": "", "errors": [{"field": "id"}]}
    for settings, name, field in (("x", "Hook", "settings"), (1, "Hook", "settings"),
                                  ({}, "Ho\x00ok", "name")):
        saved = _answer(app, token, """mutation($s: JSON!, $n: String!) {
          notificationsSaveChannel(channelKey: "webhook", input: {name: $n, settings: $s}) {
          ok errors { field } } }""", s=settings, n=name)["data"]["notificationsSaveChannel"]
        assert saved["ok"] is False and field in [e["field"] for e in saved["errors"]], saved
    template = _answer(app, token, """mutation { notificationsSaveTemplate(
      eventKey: "accounts.created", medium: "email", input: {subject: "Hi\\u0000",
      bodyText: "Hello"}) { ok errors { field } } }""")["data"]["notificationsSaveTemplate"]
    assert template == {"ok": False, "errors": [{"field": "subject"}]}
    notice = _answer(app, token, """mutation { notificationsDraftNotice(input: {title: "Down",
      media: ["email"], subject: "Down", bodyText: "Sorry", smsText: "\\u0000",
      addresses: "1 Main St"}) { ok errors { field } } }""")["data"]["notificationsDraftNotice"]
    assert notice["ok"] is False and {"field": "smsText"} in notice["errors"]
    preview = _answer(app, token, """{ notificationsPreview(eventKey: "accounts.created",
      medium: "email", accountId: "abc", input: {bodyText: "x"}) { error } }""")
    assert preview["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    listed = _answer(app, token, """{ notificationsMessages(filter: {recipient: "a\\u0000"})
      { totalCount } }""")
    assert "NUL" in listed["errors"][0]["message"]
