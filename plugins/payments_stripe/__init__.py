"""Stripe payments: a ``payment_gateways`` extension for billing's auto-pay and the portal.

Written against the public SDK and billing's published API only, as a third-party plugin
would be:

==============  ======================================================================
gateway.py      :class:`StripeGateway` (PaymentIntents, SetupIntents, refunds, webhooks)
customers.py    one Stripe customer per account (models.py: the table)
account.py      the Stripe account's settings: a configured instance, secrets sealed
views.py        staff page ``/stripe/account``; graphql.py: ``stripeSaveAccount``
==============  ======================================================================

Webhooks arrive at billing's route ``POST /billing/gateways/stripe/webhook`` (configure that
URL at Stripe), which calls :meth:`StripeGateway.parse_webhook`.
"""
from __future__ import annotations

from backhaul.sdk import MenuItem, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (register the table)

META = PluginMeta(name="payments_stripe", depends_on=("billing",),
                  description="Card payments through Stripe: auto-pay, portal checkout, "
                              "refunds, webhooks")


@hookimpl
def payment_gateways():
    from .gateway import StripeGateway

    return [StripeGateway()]


@hookimpl
def permissions():
    return [Permission("payments_stripe.account.manage",
                       "Configure the Stripe account (API keys, webhook signing secret)")]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Stripe account", "payments_stripe.account_page",
                     "payments_stripe.account.manage", "Billing", 90)]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()
