"""Accounts whose services run through a device are marked affected while it is down, shown
on the device and the account, told once per outage by the outage notice (a real SMTP
relay receives it), and cleared when the device answers again."""
from __future__ import annotations

from poller_helpers import ONCALL, make_device, poll_once

from backhaul.plugins.poller import service
from backhaul.sdk import db


def _customer(name, email, device, *subscriptions):
    from backhaul.plugins.network.models import Credential
    from backhaul.sdk.accounts import add_contact, create_account

    account = create_account(name=name)
    add_contact(account, {"name": name, "email": email})
    db.session.flush()
    for sub in subscriptions:
        db.session.add(Credential(subscription_id=sub, account_id=account.id,
                                  device_id=device.id))
    db.session.commit()
    return account


def _gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query, "variables":
                                                        variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    return response.get_json()


AFFECTED = """query($t: String) { pollerAffected(filter: {target: $t}) { nodes {
  accountId subscriptionIds notifiedAt } } }"""
NOTICE = """mutation($t: String!) { pollerSendOutageNotice(target: $t) { ok notified
  errors { field messages } } }"""


def test_down_device_marks_accounts_and_notice_goes_once(app, relay, email_channel,
                                                         staff_user, api_token):
    live = make_device("core-1", "127.0.0.1", role="router")
    dead = make_device("sector-2", "198.51.100.2", role="router")
    alice = _customer("Alice", "alice@example.net", dead, 101, 102)
    bob = _customer("Bob", "bob@example.net", dead, 103)
    _customer("Carol", "carol@example.net", live, 104)
    tpl = service.save_template({"name": "ping", "icmp_count": 1, "icmp_timeout": 0.3})
    service.apply_template(tpl.id, "role", "router")
    db.session.commit()
    manager = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    viewer = api_token(staff_user(["poller.view"]), "full")
    key = f"device:{dead.id}"
    early = _gql(app, manager, NOTICE, {"t": key})["data"]["pollerSendOutageNotice"]
    assert early["ok"] is False  # not polled yet: nothing to notify about
    poll_once()
    rows = _gql(app, viewer, AFFECTED, {"t": key})["data"]["pollerAffected"]["nodes"]
    assert sorted((r["accountId"], r["subscriptionIds"], r["notifiedAt"]) for r in rows) == [
        (str(alice.id), ["101", "102"], None), (str(bob.id), ["103"], None)]
    assert _gql(app, viewer, AFFECTED, {"t": f"device:{live.id}"})["data"][
        "pollerAffected"]["nodes"] == []
    denied = _gql(app, viewer, NOTICE, {"t": key})
    assert denied.get("errors")
    sent = _gql(app, manager, NOTICE, {"t": key})["data"]["pollerSendOutageNotice"]
    assert (sent["ok"], sent["notified"]) == (True, 2), sent
    # the on-call alert of the device going down, then one notice per affected account
    mails = [m for m in relay.wait_for(3) if m.rcpt_tos != [ONCALL]]
    assert sorted(m.rcpt_tos[0] for m in mails) == ["alice@example.net", "bob@example.net"]
    assert all("interruption" in m.message.get_body().get_content() for m in mails)
    again = _gql(app, manager, NOTICE, {"t": key})["data"]["pollerSendOutageNotice"]
    assert again["notified"] == 0
    dead.host = "127.0.0.1"
    db.session.commit()
    poll_once()
    assert _gql(app, viewer, AFFECTED, {"t": key})["data"]["pollerAffected"]["nodes"] == []
    mails = relay.wait_for(4)  # plus the on-call "up": no further notice
    assert [m.rcpt_tos for m in mails].count([ONCALL]) == 2 and len(mails) == 4
