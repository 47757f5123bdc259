"""Stripe plugin tests: the official ``stripe`` client against ``sdk/testing/stripe_sim.py``.

``sim`` is a running simulator; ``stripe_settings`` the account settings pointing at it;
``gateway`` a :class:`StripeGateway` built with them (no app needed); ``stripe_app`` an app
with billing and this plugin, its Stripe account configured through the instance store.
"""
from __future__ import annotations

import pytest

from backhaul.sdk.testing.stripe_sim import StripeSimulator

PK, SK, WHSEC = "pk_test_backhaul0001", "sk_test_backhaul0001", "whsec_backhaul0001"


@pytest.fixture
def sim():
    with StripeSimulator(secret_key=SK, publishable_key=PK, webhook_secret=WHSEC) as server:
        yield server


@pytest.fixture
def stripe_settings(sim):
    return {"publishable_key": PK, "secret_key": SK, "webhook_secret": WHSEC,
            "api_base": sim.url}


@pytest.fixture
def gateway(stripe_settings):
    from backhaul.plugins.payments_stripe.customers import CustomerMemory
    from backhaul.plugins.payments_stripe.gateway import StripeGateway

    return StripeGateway(stripe_settings, timeout=5, customers=CustomerMemory())


@pytest.fixture
def stripe_app(make_app, stripe_settings):
    from backhaul.sdk import db
    from backhaul.sdk.instances import save_instance

    app = make_app(plugins=["billing", "payments_stripe"])
    with app.app_context():
        save_instance("payment_gateways", "stripe", owner="payments_stripe",
                      name="Stripe (test)", settings=stripe_settings)
        db.session.commit()
        yield app


@pytest.fixture
def billed(stripe_app):
    """``billed(n)`` -> ``[(account_id, invoice), ...]``: n accounts, each with one finalized
    invoice of 55.00 USD (one billing run for March 2026)."""
    from datetime import date

    import sqlalchemy as sa

    from backhaul.plugins.billing import catalogue, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.plugins.billing.models import Invoice
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account

    def factory(n: int = 1):
        service = catalogue.create_service("Fiber plan", "recurring", "55.00", currency="USD")
        ids = []
        for i in range(n):
            account = create_account(name=f"Tenant {i}")
            subs.subscribe(account.id, service=service, start_date=date(2026, 3, 1))
            ids.append(account.id)
        db.session.commit()
        run.run_billing(date(2026, 3, 1))
        invoices = {inv.account_id: inv for inv in db.session.scalars(
            sa.select(Invoice).where(Invoice.account_id.in_(ids)))}
        return [(account_id, invoices[account_id]) for account_id in ids]

    return factory
