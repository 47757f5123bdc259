"""Helpers for the portal tests: a tenant with an overdue (delinquent) account, signing in."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

FAKE_SECRET = "whsec-portal-tests"
PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    account: object
    contact: object
    invoice_id: int
    email: str


def make_tenant(name="Tina Tenant", email="tina@example.net", *, delinquent=True,
                password: str | None = PASSWORD, amount="45.00") -> Tenant:
    """An account with a contact who has portal access, a monthly fee billed 40 days ago
    (due after 14 days, 5 days' grace: overdue) and, with ``delinquent``, the nightly
    delinquency run done (status delinquent)."""
    import sqlalchemy as sa

    from backhaul.plugins.billing import catalogue, delinquency, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.plugins.billing.models import Invoice, Service
    from backhaul.plugins.portal.models import Login
    from backhaul.sdk import db
    from backhaul.sdk.accounts import add_contact, create_account
    from backhaul.sdk.passwords import hash_password

    service = db.session.scalar(sa.select(Service).where(Service.name == "Fibre 100"))
    if service is None:
        service = catalogue.create_service("Fibre 100", "recurring", amount, currency="USD")
    account = create_account(name=f"{name} — Flat 4")
    contact = add_contact(account, {"name": name, "email": email, "is_primary": True,
                                    "is_financial": True, "portal_access": True})
    db.session.flush()
    start = date.today() - timedelta(days=40)
    subs.subscribe(account.id, service=service, start_date=start)
    db.session.commit()
    run.run_billing(start, account_ids=[account.id])
    if delinquent:
        delinquency.run_nightly(date.today())
    if password:
        db.session.add(Login(contact_id=contact.id, password_hash=hash_password(password)))
    db.session.commit()
    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == account.id,
                                                         Invoice.kind == "invoice")
                                .order_by(Invoice.id))
    return Tenant(account, contact, invoice.id, email)



def portal_csrf(client) -> str:
    """A CSRF token for this client (Flask-WTF's, bound to its Flask session cookie)."""
    page = client.get("/portal/password/forgot").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def portal_sign_in(client, email="tina@example.net", password=PASSWORD):
    return client.post("/portal/login", data={"email": email, "password": password,
                                              "csrf_token": portal_csrf(client)})


