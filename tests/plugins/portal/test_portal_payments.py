"""Paying in the portal through the example plugin's signed test gateway (``example.fake``):
the amount comes from billing, never the browser; a payment reaches the ledger once whether
the page, the webhook or both report it; a decline changes no money; a double submit starts
one payment; cards are saved and replaced; auto-pay is turned on and off unless locked."""
from __future__ import annotations

import json

import sqlalchemy as sa
from portal_helpers import portal_csrf

from backhaul.sdk import db, registered


def _payments(account_id):
    from backhaul.plugins.billing.models import Payment

    return db.session.scalars(sa.select(Payment).where(Payment.account_id == account_id)).all()


def _status(account):
    db.session.refresh(account)
    return account.status.key


def _pay(client, invoice_id=None, **form):
    url = "/portal/pay" + (f"?invoice={invoice_id}" if invoice_id else "")
    return client.post(url, data={"method": "new", "gateway": "example.fake",
                                  "csrf_token": portal_csrf(client), **form})


def _webhook(app, **event):
    body = json.dumps({"currency": "USD", **event}).encode()
    gateway = registered("payment_gateways")["example.fake"]
    return app.test_client().post("/billing/gateways/example.fake/webhook", data=body,
                                  headers={"X-Fake-Signature": gateway.sign(body),
                                           "Content-Type": "application/json"})


def test_paying_the_overdue_invoice_restores_the_account_once_even_with_the_webhook(
        app, customer, tenant):
    from backhaul.plugins.billing.models import Invoice
    from backhaul.plugins.portal.models import PortalPayment

    invoice = db.session.get(Invoice, tenant.invoice_id)
    due = invoice.amount_due
    assert _status(tenant.account) == "delinquent"
    page = customer.get(f"/portal/pay?invoice={invoice.id}").get_data(as_text=True)
    assert due.format() in page
    # an amount in the form is ignored: billing's figure is charged
    response = _pay(customer, invoice.id, method_ref="fake_ok", amount="0.01")
    assert response.status_code == 302 and "/portal/payments/" in response.headers["Location"]
    result = customer.get(response.headers["Location"]).get_data(as_text=True)
    assert "payment received" in result
    db.session.refresh(invoice)
    assert invoice.status == "paid"
    assert _status(tenant.account) == "active"
    [payment] = _payments(tenant.account.id)
    assert payment.money == due and payment.method == "card"
    row = db.session.scalar(sa.select(PortalPayment))
    gateway = registered("payment_gateways")["example.fake"]
    assert gateway.payments[row.reference]["amount"] == due  # the processor charged it once
    assert len(gateway.payments) == 1
    # the processor's webhook arrives afterwards (and twice): nothing more is recorded
    event = {"id": "evt_1", "type": "payment.succeeded", "outcome": "succeeded",
             "key": row.key, "reference": row.reference, "amount": due.amount,
             "account_id": tenant.account.id, "invoice_id": invoice.id}
    assert _webhook(app, **event).status_code == 200
    assert _webhook(app, **event).get_data(as_text=True) == "duplicate"
    assert len(_payments(tenant.account.id)) == 1


def test_the_webhook_alone_records_a_payment_the_page_left_pending(app, customer, tenant):
    from backhaul.plugins.billing.models import Invoice
    from backhaul.plugins.portal.models import PortalPayment

    invoice = db.session.get(Invoice, tenant.invoice_id)
    response = _pay(customer, invoice.id, method_ref="fake_pending")
    assert "being confirmed" in customer.get(response.headers["Location"]).get_data(
        as_text=True)
    assert _payments(tenant.account.id) == []
    row = db.session.scalar(sa.select(PortalPayment))
    assert row.status == "pending"
    # a second press of "Pay" while it is pending starts nothing new
    again = _pay(customer, invoice.id, method_ref="fake_ok")
    assert again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(PortalPayment.id))) == 1
    assert len(registered("payment_gateways")["example.fake"].payments) == 1
    _webhook(app, id="evt_9", type="payment.succeeded", outcome="succeeded", key=row.key,
             reference=row.reference, amount=row.amount, account_id=tenant.account.id,
             invoice_id=invoice.id)
    db.session.refresh(invoice)
    assert invoice.status == "paid" and _status(tenant.account) == "active"
    assert len(_payments(tenant.account.id)) == 1


def test_a_declined_card_changes_no_money(app, customer, tenant):
    from backhaul.plugins.billing.models import Invoice

    response = _pay(customer, tenant.invoice_id, method_ref="fake_declined")
    page = customer.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not go through" in page and "card declined" in page
    assert "Nothing was charged" in page
    assert _payments(tenant.account.id) == []
    assert db.session.get(Invoice, tenant.invoice_id).status != "paid"
    assert _status(tenant.account) == "delinquent"


def test_pay_the_whole_balance(app, customer, tenant):
    from backhaul.plugins.billing import accounts

    balance = accounts.balance(tenant.account.id)
    assert balance.amount > 0
    response = _pay(customer, method_ref="fake_ok")
    assert "payment received" in customer.get(response.headers["Location"]).get_data(
        as_text=True)
    assert accounts.balance(tenant.account.id).amount == 0
    assert [p.amount for p in _payments(tenant.account.id)] == [balance.amount]
    # nothing left: the pay page says so instead of charging
    assert customer.get("/portal/pay").status_code == 302


def test_bad_choices_are_named_and_charge_nothing(app, customer, tenant):
    unknown = _pay(customer, tenant.invoice_id, gateway="nope", method_ref="fake_ok")
    assert unknown.status_code == 400
    assert "Choose one of the payment methods offered." in unknown.get_data(as_text=True)
    saved = _pay(customer, tenant.invoice_id, method="saved:999")
    assert saved.status_code == 400 and "Choose one of your saved cards" in saved.get_data(
        as_text=True)
    assert customer.get("/portal/pay?invoice=abc").status_code == 404
    assert _payments(tenant.account.id) == []


def test_save_replace_card_and_autopay(app, customer, tenant):
    from backhaul.plugins.billing.models import BillingAccount, PaymentMethod

    token = portal_csrf(customer)
    off = customer.post("/portal/autopay", data={"autopay": "on", "csrf_token": token})
    assert off.headers["Location"] == "/portal/card"  # no card yet: save one first
    saved = customer.post("/portal/card", data={"gateway": "example.fake",
                                               "method_ref": "fake_ok", "csrf_token": token})
    assert saved.status_code == 302
    refused = customer.post("/portal/card", data={"gateway": "example.fake",
                                                 "method_ref": "fake_declined",
                                                 "csrf_token": token})
    assert refused.status_code == 400 and "could not be saved" in refused.get_data(
        as_text=True)
    assert customer.post("/portal/autopay", data={"autopay": "on", "csrf_token": token}
                         ).status_code == 302
    assert db.session.get(BillingAccount, tenant.account.id).autopay is True
    customer.post("/portal/card", data={"gateway": "example.fake", "method_ref": "fake_ok",
                                        "csrf_token": token})
    methods = db.session.scalars(sa.select(PaymentMethod).where(
        PaymentMethod.account_id == tenant.account.id)).all()
    assert len(methods) == 2 and sum(m.is_default for m in methods) == 1  # replaced
    page = customer.get("/portal/").get_data(as_text=True)
    assert "New invoices are charged to" in page
    # pay with the saved card
    default = next(m for m in methods if m.is_default)
    paid = _pay(customer, tenant.invoice_id, method=f"saved:{default.id}")
    assert "payment received" in customer.get(paid.headers["Location"]).get_data(as_text=True)
    customer.post("/portal/autopay", data={"autopay": "off", "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(BillingAccount, tenant.account.id).autopay is False
    # the audit trail says the customer did it
    from backhaul.core.audit.models import AuditEntry

    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == "billing_account").order_by(AuditEntry.seq.desc())).first()
    assert (entry.actor_kind, entry.actor_id) == ("contact", str(tenant.contact.id))


def test_autopay_locked_on_by_the_isp_cannot_be_turned_off(app, customer, tenant):
    from backhaul.plugins.billing.models import BillingAccount
    from backhaul.plugins.portal import branding

    branding.save({"name": "Maple Fibre", "primary_colour": "#123456",
                   "accent_colour": "#abcdef", "autopay_locked": True})
    db.session.commit()
    token = portal_csrf(customer)
    customer.post("/portal/card", data={"gateway": "example.fake", "method_ref": "fake_ok",
                                        "csrf_token": token})
    customer.post("/portal/autopay", data={"autopay": "on", "csrf_token": token})
    page = customer.get("/portal/").get_data(as_text=True)
    assert 'id="autopay-locked"' in page and 'id="autopay-off"' not in page
    response = customer.post("/portal/autopay", data={"autopay": "off", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(BillingAccount, tenant.account.id).autopay is True


def test_another_accounts_payment_page_is_404(app, customer, tenant):
    from portal_helpers import make_tenant

    from backhaul.plugins.portal.models import PortalPayment

    other = make_tenant("Olga Other", "olga@example.net")
    row = PortalPayment(key="portal:other", account_id=other.account.id, amount=100,
                        currency="USD", gateway="example.fake", status="processed")
    db.session.add(row)
    db.session.commit()
    assert customer.get(f"/portal/payments/{row.id}").status_code == 404


def test_payments_an_hour_are_bounded(app, customer, tenant):
    from backhaul.plugins.portal import payments

    for _n in range(payments.MAX_PER_HOUR):
        assert _pay(customer, tenant.invoice_id, method_ref="fake_declined").status_code == 302
    refused = _pay(customer, tenant.invoice_id, method_ref="fake_ok")
    assert refused.status_code == 400 and "Too many payments" in refused.get_data(as_text=True)
    assert _payments(tenant.account.id) == []
