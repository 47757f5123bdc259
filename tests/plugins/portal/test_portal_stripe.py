"""Portal payments through the Stripe gateway and the Stripe simulator, without a browser:
an answer lost after Stripe took the charge leaves the payment "being checked", never
retried with a new key; the payment's page then finds it at Stripe by its key: one charge,
one payment."""
from __future__ import annotations

import sqlalchemy as sa
from portal_helpers import make_tenant, portal_csrf, portal_sign_in

from backhaul.sdk import db
from backhaul.sdk.testing.stripe_sim import StripeSimulator

PK, SK, WHSEC = "pk_test_portal0002", "sk_test_portal0002", "whsec_portal0002"


def test_a_lost_answer_is_checked_not_charged_again(portal_app):
    from backhaul.plugins.billing.models import Invoice, Payment
    from backhaul.plugins.portal.models import PortalPayment
    from backhaul.sdk.instances import save_instance

    with StripeSimulator(secret_key=SK, publishable_key=PK, webhook_secret=WHSEC) as sim:
        app = portal_app(plugins=["notifications", "billing", "portal", "payments_stripe"])
        with app.app_context():
            save_instance("payment_gateways", "stripe", owner="payments_stripe",
                          name="Stripe (test)", settings={
                              "publishable_key": PK, "secret_key": SK,
                              "webhook_secret": WHSEC, "api_base": sim.url})
            db.session.commit()
            tenant = make_tenant()
            client = app.test_client()
            portal_sign_in(client)
            sim.drop_next("/v1/payment_intents")
            response = client.post(f"/portal/pay?invoice={tenant.invoice_id}", data={
                "method": "new", "gateway": "stripe", "method_ref": "pm_card_visa",
                "csrf_token": portal_csrf(client)})
            row = db.session.scalar(sa.select(PortalPayment))
            assert row.status == "undefined" and row.reference is None
            assert len(sim.charges()) == 1  # Stripe took it; we did not hear
            assert db.session.scalars(sa.select(Payment)).all() == []
            # pressing Pay again starts nothing new while we do not know
            again = client.post(f"/portal/pay?invoice={tenant.invoice_id}", data={
                "method": "new", "gateway": "stripe", "method_ref": "pm_card_visa",
                "csrf_token": portal_csrf(client)})
            assert again.status_code in (302, 400)
            page = client.get(response.headers["Location"]).get_data(as_text=True)
            assert "payment received" in page  # found at Stripe by its idempotency key
            db.session.expire_all()
            assert db.session.get(Invoice, tenant.invoice_id).status == "paid"
            assert len(db.session.scalars(sa.select(Payment)).all()) == 1
            assert len(sim.charges()) == 1
            assert db.session.scalar(sa.select(sa.func.count(PortalPayment.id))) == 1


def test_the_periodic_job_settles_a_lost_answer_nobody_came_back_for(portal_app):
    from datetime import timedelta

    from backhaul.plugins.billing.models import Invoice, Payment
    from backhaul.plugins.portal.jobs import reconcile_payments
    from backhaul.plugins.portal.models import PortalPayment
    from backhaul.sdk import utcnow
    from backhaul.sdk.instances import save_instance

    with StripeSimulator(secret_key=SK, publishable_key=PK, webhook_secret=WHSEC) as sim:
        app = portal_app(plugins=["notifications", "billing", "portal", "payments_stripe"])
        with app.app_context():
            save_instance("payment_gateways", "stripe", owner="payments_stripe",
                          name="Stripe (test)", settings={
                              "publishable_key": PK, "secret_key": SK,
                              "webhook_secret": WHSEC, "api_base": sim.url})
            db.session.commit()
            tenant = make_tenant()
            client = app.test_client()
            portal_sign_in(client)
            sim.drop_next("/v1/payment_intents")
            client.post(f"/portal/pay?invoice={tenant.invoice_id}", data={
                "method": "new", "gateway": "stripe", "method_ref": "pm_card_visa",
                "csrf_token": portal_csrf(client)})
            row = db.session.scalar(sa.select(PortalPayment))
            assert row.status == "undefined"
            reconcile_payments()  # too recent: left alone
            db.session.refresh(row)
            assert row.status == "undefined"
            row.updated_at = utcnow() - timedelta(minutes=10)
            db.session.commit()
            reconcile_payments()
            db.session.expire_all()
            assert db.session.get(PortalPayment, row.id).status == "processed"
            assert db.session.get(Invoice, tenant.invoice_id).status == "paid"
            assert len(db.session.scalars(sa.select(Payment)).all()) == 1
            assert len(sim.charges()) == 1
