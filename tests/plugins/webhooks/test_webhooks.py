"""Domain events to a real HTTP receiver: the signature checked by an HMAC written here (not
the plugin's own verifier), only the events subscribed, a failing receiver retried until it
answers, the delivery log, the secret sealed in the database, GraphQL and the page."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from webhooks_helpers import SECRET, bill_and_pay, check_signature, subscribe

from backhaul.sdk import db

pytestmark = pytest.mark.postgres


def test_subscribed_domain_events_arrive_signed(app, receiver):
    subscribe(receiver.url, ["invoice.*", "payment.received", "service.changed"])
    account, sub = bill_and_pay()

    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert sorted(events) == ["invoice.finalized", "payment.received", "service.changed"]
    for request in receiver.requests:
        check_signature(request)
        headers = {k.lower(): v for k, v in request["headers"].items()}
        payload = json.loads(request["body"])
        assert headers["x-backhaul-event"] == payload["event"]
        assert headers["x-backhaul-delivery"] == payload["id"]
        assert payload["account"] == {"id": account.id, "number": account.number}
    by_event = {json.loads(r["body"])["event"]: json.loads(r["body"]) for r in receiver.requests}
    assert by_event["payment.received"]["data"]["amount"] == {
        "amount": 5000, "currency": "USD", "formatted": "50.00 USD"}
    assert by_event["service.changed"]["data"] == {"subscription_id": sub.id, "change": "added"}
    from backhaul.plugins.billing.models import Invoice

    invoice_id = db.session.scalar(sa.select(Invoice.id).where(Invoice.account_id == account.id))
    assert by_event["invoice.finalized"]["data"] == {"invoice_id": invoice_id}

    # a forged body or another secret fails the receiver's check
    forged = {**receiver.requests[0], "body": receiver.requests[0]["body"] + b" "}
    with pytest.raises(AssertionError, match="bad signature"):
        check_signature(forged)
    with pytest.raises(AssertionError, match="bad signature"):
        check_signature(receiver.requests[0], secret="whsec_someone_else_000000")


def test_a_failing_receiver_is_retried_and_logged(app, receiver):
    from backhaul.plugins.notifications.models import DeliveryLog, Message
    from backhaul.sdk.accounts import create_account

    receiver.statuses = [500, 503]
    hook = subscribe(receiver.url, ["account.created"])
    account = create_account(name="Retry Rita")
    db.session.commit()  # account.created is published after the commit

    assert len(receiver.requests) == 3
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    assert len(ids) == 1, "every retry carries the same delivery id (receivers dedupe)"
    for request in receiver.requests:
        check_signature(request)
    message = db.session.scalar(sa.select(Message).where(Message.channel_id == hook.id))
    assert (message.status, message.attempts, message.event_key) == \
        ("sent", 3, "account.created")
    log = db.session.scalars(sa.select(DeliveryLog.event).where(
        DeliveryLog.message_id == message.id).order_by(DeliveryLog.id)).all()
    assert log == ["queued", "retry", "retry", "sent"]
    assert json.loads(receiver.requests[0]["body"])["account"]["id"] == account.id


def test_device_events_from_the_poller(app, receiver):
    from backhaul.sdk import call_hook

    subscribe(receiver.url, ["device.state_changed"])
    at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    call_hook("device_state_changed", target="device:3", name="core-sw-1", old_state="up",
              new_state="down", reason="100% loss", at=at)
    db.session.commit()
    [request] = receiver.requests
    check_signature(request)
    payload = json.loads(request["body"])
    assert payload["account"] is None
    assert payload["data"] == {"target": "device:3", "name": "core-sw-1", "old_state": "up",
                               "new_state": "down", "reason": "100% loss",
                               "at": "2026-12-07T06:00:00+00:00"}


def test_ticket_events(app, receiver):
    from backhaul.plugins.tickets import config, desk
    from backhaul.sdk.accounts import create_account

    subscribe(receiver.url, ["ticket.*"])
    account = create_account(name="Tina Tenant")
    group = config.save_group("Support")
    ticket = desk.open_ticket({"subject": "No internet", "groupId": group.id,
                               "accountId": account.id})
    db.session.commit()
    desk.update_ticket(ticket, {"status": "closed"})
    db.session.commit()
    desk.update_ticket(ticket, {"priority": "high"})  # no status change: no event
    db.session.commit()
    payloads = [json.loads(r["body"]) for r in receiver.requests]
    for request in receiver.requests:
        check_signature(request)
    assert [(p["event"], p["data"]) for p in payloads] == [
        ("ticket.opened", {"ticket_id": ticket.id, "status": "open"}),
        ("ticket.status_changed", {"ticket_id": ticket.id, "status": "closed"})]
    assert {p["account"]["id"] for p in payloads} == {account.id}


def test_secret_sealed_graphql_and_page(app, receiver, staff_user, api_token, login):
    integrator = staff_user(["webhooks.view", "notifications.channels.view",
                             "notifications.channels.manage"], name="Ian Integrator")
    token = api_token(integrator, "full")
    client = app.test_client()

    def gql(query, **variables):
        body = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"}).get_json()
        assert "errors" not in body, body
        return body["data"]

    saved = gql("""mutation($input: NotificationsChannelInput!) {
      notificationsSaveChannel(channelKey: "webhook", input: $input) { ok errors { field messages } channel { id } } }""",
                input={"name": "ERP", "settings": {"url": receiver.url, "secret": SECRET,
                                                   "events": ["payment.*"]}})
    assert saved["notificationsSaveChannel"]["ok"], saved
    rows = " ".join(str(v) for row in db.session.execute(
        sa.text("SELECT * FROM core_extension_instance")) for v in row)
    assert SECRET not in rows, "the secret is encrypted at rest"

    data = gql("{ webhooksEventTypes { key example } "
               "webhooksEndpoints { totalCount nodes { name url events } } }")
    assert [e["key"] for e in data["webhooksEventTypes"]] == [
        "account.created", "account.status_changed", "service.changed", "invoice.finalized",
        "payment.received", "ticket.opened", "ticket.status_changed", "device.state_changed"]
    assert data["webhooksEndpoints"]["nodes"] == [{"name": "ERP", "url": receiver.url,
                                                   "events": ["payment.*"]}]
    assert data["webhooksEndpoints"]["totalCount"] == 1
    assert SECRET not in json.dumps(data)

    nobody = staff_user(["notifications.channels.view"])
    body = client.post("/graphql", json={"query": "{ webhooksEndpoints { nodes { url } } }"},
                       headers={"Authorization": f"Bearer {api_token(nobody)}"}).get_json()
    assert "webhooks.view" in body["errors"][0]["message"]

    browser = app.test_client()
    login(browser, integrator)
    page = browser.get("/webhooks/").get_data(as_text=True)
    assert receiver.url in page and "payment.*" in page and "X-Backhaul-Signature" in page
    assert SECRET not in page
    assert browser.get("/webhooks/").status_code == 200
    other = app.test_client()
    login(other, nobody)
    assert other.get("/webhooks/").status_code == 403
