"""The office manager's billing pages: catalogue editing from each type's parameter schema,
packages, and the actions on an account's billing page (all through the real forms)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import (
    BillingAccount,
    Charge,
    Invoice,
    Package,
    Payment,
    Service,
    Subscription,
)

LATER = date.today() + timedelta(days=40)
ALL = ["billing.catalogue.view", "billing.catalogue.manage", "billing.invoice.view",
       "billing.subscription.manage", "billing.settings.manage", "billing.payment.record",
       "billing.payment.reverse", "billing.run.manage", "billing.run.view",
       "accounts.account.view"]


@pytest.fixture
def office(app, staff_user, login, csrf_token):
    client = app.test_client()
    login(client, staff_user(ALL))
    token = csrf_token(client)

    def post(url, **form):
        return client.post(url, data={**form, "csrf_token": token}, follow_redirects=True)

    client.post_form = post
    return client


def _audit_actions(db):
    from backhaul.core.audit.models import AuditEntry

    return [(e.action, e.changes) for e in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.seq))]


def test_data_service_form_comes_from_the_parameter_schema(app, db, shop, office):
    page = office.get("/billing/catalogue/services/new?type=data").get_data(as_text=True)
    for name in ("params.download_mbps", "params.upload_mbps", "params.allowance_gb"):
        assert f'name="{name}"' in page
    assert 'name="params.channels"' not in page
    refused = office.post_form("/billing/catalogue/services/new?type=data", name="Fiber 300",
                               price="79.00", frequency="monthly", **{
                                   "params.download_mbps": "300", "params.upload_mbps": "0"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="f-params-upload_mbps-error"' in text and 'value="Fiber 300"' in text
    office.post_form("/billing/catalogue/services/new?type=data", name="Fiber 300",
                     price="79.00", frequency="monthly", prorate="y", **{
                         "params.download_mbps": "300", "params.upload_mbps": "50",
                         "params.allowance_gb": "500"})
    fiber = db.session.scalar(sa.select(Service).where(Service.name == "Fiber 300"))
    assert fiber.params["download_mbps"] == 300 and fiber.params["allowance_gb"] == 500
    assert fiber.price_amount == 7900 and fiber.prorate
    office.post_form(f"/billing/catalogue/services/{fiber.id}", name="Fiber 300+",
                     price="89.00", frequency="monthly", prorate="y", **{
                         "params.download_mbps": "350", "params.upload_mbps": "50"})
    db.session.expire_all()
    assert (fiber.name, fiber.price_amount, fiber.params["download_mbps"],
            fiber.params["allowance_gb"]) == ("Fiber 300+", 8900, 350, None)
    office.post_form(f"/billing/catalogue/services/{fiber.id}/retire")
    db.session.expire_all()
    assert fiber.active is False
    assert "billing.service_retired" in [a for a, _ in _audit_actions(db)]


def test_plugin_service_type_gets_a_form_for_free(app, db, shop, office):
    page = office.get("/billing/catalogue/services/new?type=general").get_data(as_text=True)
    assert 'name="params.channels"' in page and 'name="params.extra_gb"' in page
    office.post_form("/billing/catalogue/services/new?type=general", name="TV basic",
                     price="10", frequency="monthly", **{"params.channels": "news, sport"})
    tv = db.session.scalar(sa.select(Service).where(Service.name == "TV basic"))
    assert tv.params["channels"] == ["news", "sport"]


def test_packages_created_and_edited(app, db, shop, office):
    office.post_form("/billing/catalogue/packages/new", name="Home bundle", pricing="package",
                     price="60.00", frequency="monthly", prorate="y",
                     service=[str(shop.fiber.id), str(shop.voice.id)],
                     **{f"quantity.{shop.voice.id}": "2"})
    package = db.session.scalar(sa.select(Package).where(Package.name == "Home bundle"))
    assert {(i.service.name, i.quantity) for i in package.items} == {
        ("Fiber 100", 1), ("Home phone", 2)}
    office.post_form(f"/billing/catalogue/packages/{package.id}", name="Home bundle",
                     price="65.00", active="y", service=[str(shop.fiber.id)])
    db.session.expire_all()
    assert package.price_amount == 6500 and [i.service.name for i in package.items] == [
        "Fiber 100"]


def test_account_actions(app, db, shop, make_account, office):
    jane = make_account("Jane Doe")
    base = f"/billing/accounts/{jane.id}"
    page = office.get(base).get_data(as_text=True)
    assert jane.number in page and "Jane Doe" in page
    office.post_form(f"{base}/subscriptions", item=f"service:{shop.fiber.id}",
                     price_override="45.00", quantity="1", start_date="2026-03-01")
    office.post_form(f"{base}/subscriptions", item=f"service:{shop.maintenance.id}",
                     quantity="1", start_date="2026-03-01", description="Parking space 12")
    office.post_form(f"{base}/charges", service_id=str(shop.install.id), quantity="1",
                     charge_date="2026-03-01")
    fiber = db.session.scalar(sa.select(Subscription).where(
        Subscription.service_id == shop.fiber.id))
    assert fiber.price_override_amount == 4500
    [charge] = db.session.scalars(sa.select(Charge)).all()
    assert (charge.description, charge.unit_price_amount) == ("Installation", 9900)
    # a price change without a reason is refused
    refused = office.post_form(f"{base}/subscriptions/{fiber.id}/price", price="40.00",
                               effective_date="2026-03-01", reason="")
    assert "reason" in refused.get_data(as_text=True)
    office.post_form(f"{base}/subscriptions/{fiber.id}/price", price="40.00",
                     effective_date="2026-03-01", reason="loyalty")
    db.session.expire_all()
    assert fiber.price_override_amount == 4000
    scheduled = office.post_form(f"{base}/subscriptions/{fiber.id}/schedule",
                                 effective_date=LATER.isoformat(), price="42.00")
    assert f"Change scheduled for {LATER}" in scheduled.get_data(as_text=True), \
        scheduled.get_data(as_text=True).split("<main")[1][:1500]
    from backhaul.sdk.accounts import ScheduledEvent

    [event] = db.session.scalars(sa.select(ScheduledEvent)).all()
    assert event.action == "billing.price_change" and event.params["price"] == "42.00"
    office.post_form(f"{base}/settings", billing_day="1", due_days="10", autopay="n",
                     delivery="printed", tax_exempt="y", reason="housing association")
    row = db.session.get(BillingAccount, jane.id)
    db.session.refresh(row)
    assert (row.due_days, row.delivery, row.tax_exempt, row.autopay) == (10, "printed", True,
                                                                        False)
    done = office.post_form(f"{base}/bill-now", date="2026-03-01")
    assert "1 invoice(s) issued" in done.get_data(as_text=True)
    [invoice] = db.session.scalars(sa.select(Invoice)).all()
    assert invoice.total_amount == 4000 + 2000 + 9900  # tax exempt
    office.post_form(f"/billing/accounts/{jane.id}/payments", amount="50.00", method="cash")
    [payment] = db.session.scalars(sa.select(Payment)).all()
    office.post_form(f"/billing/payments/{payment.id}/reverse", reason="")
    db.session.refresh(payment)
    assert payment.status != "reversed"
    office.post_form(f"/billing/payments/{payment.id}/reverse", reason="cheque bounced")
    db.session.refresh(payment)
    assert payment.status == "reversed" and payment.reversal_reason == "cheque bounced"
    office.post_form(f"{base}/subscriptions/{fiber.id}/end", end_date="2099-08-01",
                     reason="moving away")
    db.session.refresh(fiber)
    assert fiber.end_date == date(2099, 8, 1)
    actions = dict(_audit_actions(db))
    assert actions["billing.subscription_ended"]["reason"] == "moving away"
    assert actions["billing.price_override"]["reason"] == "loyalty"
    assert actions["billing.account_settings"]["reason"] == "housing association"
    page = office.get(base).get_data(as_text=True)
    assert "account #" not in page.lower() and f">#{jane.id}<" not in page


def test_lists_show_account_number_and_name(app, db, shop, make_account, office):
    from backhaul.plugins.billing import run

    jane = make_account("Jane Doe")
    bob = make_account("Bob Smith")
    for who in (jane, bob):
        subs.subscribe(who.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    preview = office.get("/billing/runs?date=2026-03-01&account=Bob").get_data(as_text=True)
    assert f"{bob.number} · Bob Smith" in preview and "Jane Doe" not in preview
    done = run.run_billing(date(2026, 3, 1))
    page = office.get(f"/billing/runs/{done.id}").get_data(as_text=True)
    assert "INV-000001" in page and "INV-000002" in page
    assert f"{jane.number} · Jane Doe" in page and f"{bob.number} · Bob Smith" in page
    listing = office.get("/billing/invoices").get_data(as_text=True)
    from backhaul.plugins.billing.models import Invoice
    first_id = db.session.scalar(sa.select(sa.func.min(Invoice.id)))  # (ids are not 1..n:
    invoice = office.get(f"/billing/invoices/{first_id}").get_data(as_text=True)  # previews)
    for text in (listing, invoice, page):
        assert f">#{jane.id}<" not in text and f">#{bob.id}<" not in text
    assert f"{jane.number} · Jane Doe" in listing
    assert ("Jane Doe" in invoice) != ("Bob Smith" in invoice)


def test_filtered_preview_offers_billing_only_that_account(app, db, shop, make_account,
                                                           office):
    jane, bob = make_account("Jane Doe"), make_account("Bob Smith")
    for who in (jane, bob):
        subs.subscribe(who.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    page = office.get("/billing/runs?date=2026-03-01&account=Bob").get_data(as_text=True)
    assert f"Bill {bob.number} now" in page and f"Bill {jane.number} now" not in page
    done = office.post_form(f"/billing/accounts/{bob.id}/bill-now", date="2026-03-01")
    assert "1 invoice(s) issued" in done.get_data(as_text=True)
    billed = {i.account_id for i in db.session.scalars(sa.select(Invoice))}
    assert billed == {bob.id}
