"""On-session pieces a portal uses: a checkout the browser completes with the publishable
key (as Stripe.js does), one Stripe customer per account, declines and 3-D Secure."""
from __future__ import annotations

import requests
import sqlalchemy as sa

from backhaul.plugins.payments_stripe.models import StripeCustomer
from backhaul.sdk import Customer, Money, PaymentStatus, db, registered


def test_browser_completes_a_checkout_with_the_publishable_key(gateway, sim):
    started = gateway.start_checkout(Money(5500, "USD"), Customer(3, "T", "t@example.net"),
                                     idempotency_key="portal:3:1")
    assert started.status == PaymentStatus.PENDING
    assert started.publishable_key == sim.publishable_key and started.client_secret
    assert "sk_" not in repr(started), "never a secret key towards a page"
    card = requests.post(f"{sim.url}/v1/payment_methods", data={
        "key": started.publishable_key, "type": "card", "card[number]": "4242424242424242",
        "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123"}, timeout=5)
    assert card.status_code == 200, card.text
    confirm = f"{sim.url}/v1/payment_intents/{started.reference}/confirm"
    wrong = requests.post(confirm, data={"key": started.publishable_key,
                                         "client_secret": "pi_x_secret_forged",
                                         "payment_method": card.json()["id"]}, timeout=5)
    assert wrong.status_code == 401, "the publishable key alone confirms nothing"
    right = requests.post(confirm, data={"key": started.publishable_key,
                                         "client_secret": started.client_secret,
                                         "payment_method": card.json()["id"]}, timeout=5)
    assert right.json()["status"] == "succeeded"
    assert gateway.fetch(started.reference).status == PaymentStatus.PROCESSED


def test_declined_and_action_required_checkouts(gateway, sim):
    who = Customer(4)
    declined = gateway.start_checkout(Money(100, "USD"), who, idempotency_key="d1",
                                      method_ref="pm_card_chargeDeclinedInsufficientFunds")
    assert declined.status == PaymentStatus.ERROR
    assert declined.message == "Your card has insufficient funds."
    action = gateway.start_checkout(Money(100, "USD"), who, idempotency_key="a1",
                                    method_ref="pm_card_authenticationRequired",
                                    return_url="https://portal.example/back")
    assert action.requires_action and action.redirect_url.startswith(sim.url)
    sim.authenticate(action.reference, succeed=False)
    assert gateway.fetch(action.reference).status == PaymentStatus.ERROR
    assert not sim.charges()


def test_saved_card_needing_3ds_once_then_charges_off_session(gateway, sim):
    who = Customer(5, email="t5@example.net")
    setup = gateway.start_setup(who, idempotency_key="s5", return_url="https://p/back",
                                method_ref="pm_card_authenticationRequiredOnSetup")
    assert setup.requires_action
    assert gateway.finish_setup(setup.reference) is None, "not saved before the bank agrees"
    sim.authenticate(setup.reference)
    saved = gateway.finish_setup(setup.reference)
    assert saved is not None and saved.label == "Visa ending 3155"
    paid = gateway.purchase(Money(900, "USD"), saved.method_ref, idempotency_key="off5")
    assert paid.status == PaymentStatus.PROCESSED
    always = gateway.purchase(Money(900, "USD"), "pm_card_authenticationRequired",
                              idempotency_key="off6")
    assert always.status == PaymentStatus.ERROR, "off-session, a bank that insists declines"


def test_one_stripe_customer_per_account(stripe_app, sim):
    from backhaul.sdk.accounts import create_account

    account = create_account(name="Tenant")
    db.session.commit()
    gateway = registered("payment_gateways")["stripe"]
    for n in range(3):
        gateway.start_checkout(Money(100, "USD"), Customer(account.id), idempotency_key=f"o{n}",
                               method_ref="pm_card_visa")
    db.session.commit()
    rows = db.session.scalars(sa.select(StripeCustomer)).all()
    assert len(rows) == 1
    customers = {o["customer"] for o in sim.objects.values() if o["object"] == "payment_intent"}
    assert customers == {rows[0].customer_id}
