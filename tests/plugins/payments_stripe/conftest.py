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
