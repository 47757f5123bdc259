"""Who receives what: categories, financial contacts, preferences, essential messages, and
the public unsubscribe link."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from notif_helpers import save

from backhaul.plugins.notifications import routing
from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.models import Message, Unsubscribe
from backhaul.sdk import db
from backhaul.sdk.accounts import set_status


@dataclass(eq=False)
class FakeContact:
    id: int
    name: str
    email: str | None = None
    phone: str | None = None
    is_primary: bool = False
    is_financial: bool = False
    preferences: dict = field(default_factory=dict)

    def wants(self, category, channel="email"):
        return bool(self.preferences.get(category, {}).get(channel, False))


@dataclass
class FakeAccount:
    contacts: list


ALL = {c: {"email": True, "sms": False} for c in ("billing", "outages", "jobs", "service")}


def people():
    tenant = FakeContact(1, "tenant", "t@x.net", "+1415", is_primary=True, preferences=ALL)
    payer = FakeContact(2, "payer", "p@x.net", is_financial=True,
                        preferences={**ALL, "billing": {"email": False}})
    kid = FakeContact(3, "kid", None, "+1416", preferences={"outages": {"sms": True}})
    return tenant, payer, kid


def names(contacts):
    return [c.name for c in contacts]


def test_billing_goes_to_financial_contacts_or_else_the_primary():
    tenant, payer, kid = people()
    account = FakeAccount([kid, payer, tenant])
    chosen, excluded = routing.route(account, "billing", False, "email")
    assert chosen == [] and [x.reason for x in excluded] == ["opted out of billing by email"]
    chosen, _ = routing.route(account, "billing", True, "email")  # essential: no opting out
    assert names(chosen) == ["payer"]
    payer.is_financial = False
    chosen, _ = routing.route(account, "billing", False, "email")
    assert names(chosen) == ["tenant"]


def test_other_categories_follow_each_contacts_preferences_per_medium():
    tenant, payer, kid = people()
    account = FakeAccount([kid, payer, tenant])
    assert names(routing.route(account, "outages", False, "email")[0]) == ["tenant", "payer"]
    chosen, excluded = routing.route(account, "outages", False, "sms")
    assert names(chosen) == ["kid"]
    assert {x.contact.name: x.reason for x in excluded} == {
        "tenant": "opted out of outages by sms", "payer": "opted out of outages by sms"}
    chosen, excluded = routing.route(account, "service", True, "sms")
    assert names(chosen) == ["tenant", "kid"]
    assert [(x.contact.name, x.reason) for x in excluded] == [("payer", "no phone")]


def test_security_goes_to_the_primary_contact_only():
    tenant, payer, kid = people()
    chosen, _ = routing.route(FakeAccount([payer, kid, tenant]), "security", True, "email")
    assert names(chosen) == ["tenant"]


def _link(text: str) -> str:
    return re.search(r"http://bh\.test(/notifications/unsubscribe/\S+)", text).group(1)


def test_unsubscribe_link_works_and_essential_messages_ignore_it(app, smtp_server, email_channel,
                                                                 household):
    account, tenant, landlord = household
    email_channel(smtp_server.port)
    save("testinvoices.outage", "email", subject="Outage",
         body_text="Work on {{ outage.when }}. Opt out: {{ unsubscribe_url }}")
    save("accounts.suspended", "email", subject="Service suspended",
         body_text="Your service is {{ status.new }}.")
    notify("testinvoices.outage", account.id, {"outage": {"when": "Tuesday"}})
    db.session.commit()
    inbox = smtp_server.wait_for(2)
    by_rcpt = {r.rcpt_tos[0]: r.message for r in inbox}
    tenant_mail = by_rcpt["tenant@example.net"]
    body = tenant_mail.get_body(preferencelist=("plain",)).get_content()
    path = _link(body)
    assert body.count(path) == 1  # used by the template: not appended a second time
    assert tenant_mail["List-Unsubscribe"] == f"<http://bh.test{path}>"

    client = app.test_client()  # nobody signed in: the token is the credential
    page = client.get(path)
    assert page.status_code == 200 and b"Stop sending outages messages by email" in page.data
    db.session.refresh(tenant)
    assert tenant.wants("outages", "email")  # a GET (a link scanner) changes nothing
    done = client.post(path)  # no CSRF token, like a mail provider's one-click POST
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    db.session.refresh(tenant)
    assert not tenant.wants("outages", "email") and tenant.wants("service", "email")
    assert db.session.scalar(sa.select(Unsubscribe.category)) == "outages"
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert b"already unsubscribed" in again.data

    notify("testinvoices.outage", account.id, {"outage": {"when": "Friday"}})
    set_status(account, "suspended", reason="delinquency")  # essential: accounts.suspended
    db.session.commit()
    inbox = smtp_server.wait_for(4, timeout=1)
    later = [(r.rcpt_tos[0], r.message["Subject"]) for r in inbox[2:]]
    assert sorted(later) == [("landlord@example.net", "Outage"),
                             ("landlord@example.net", "Service suspended"),
                             ("tenant@example.net", "Service suspended")]
    suspended = next(r.message for r in inbox[2:] if r.rcpt_tos == ["tenant@example.net"])
    assert suspended["List-Unsubscribe"] is None
    assert "Unsubscribe" not in suspended.get_body(preferencelist=("plain",)).get_content()
    assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(
        Message.event_key == "accounts.suspended", Message.essential)) == 2


def test_a_forged_unsubscribe_token_is_refused(app, household):
    from backhaul.plugins.notifications.unsubscribe import make_token

    _, tenant, _ = household
    token = make_token(tenant.id, "outages", "email")
    client = app.test_client()
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 200
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.post(f"/notifications/unsubscribe/{forged}").status_code == 404
    db.session.refresh(tenant)
    assert tenant.wants("outages", "email")
