"""Where the gateway remembers each account's Stripe customer.

:class:`CustomerTable` is the plugin's table (in an app); a plain ``dict``-backed
:class:`CustomerMemory` serves tests without an app. Creating the customer at Stripe is keyed
(``customer:<account>:<stripe account>``), so two racing checkouts make one customer.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import db

from .models import StripeCustomer


def account_tag(publishable_key: str) -> str:
    return hashlib.sha256(publishable_key.encode()).hexdigest()[:12]


class CustomerMemory(dict):
    def put(self, account_id: int, customer_id: str) -> str:
        return self.setdefault(account_id, customer_id)


class CustomerTable:
    def __init__(self, publishable_key: str):
        self.tag = account_tag(publishable_key)

    def get(self, account_id: int) -> str | None:
        return db.session.scalar(sa.select(StripeCustomer.customer_id).where(
            StripeCustomer.account_id == account_id, StripeCustomer.stripe_account == self.tag))

    def put(self, account_id: int, customer_id: str) -> str:
        try:
            with db.session.begin_nested():
                db.session.add(StripeCustomer(account_id=account_id, stripe_account=self.tag,
                                              customer_id=customer_id))
        except IntegrityError:  # a concurrent checkout stored it first
            return self.get(account_id) or customer_id
        return customer_id
