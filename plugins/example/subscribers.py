"""Reactions to the core's domain events (see "Events" in docs/hooks.md).

Each is called after the transaction that caused it committed, in its own transaction: what
it writes is committed when it returns, and if it raises only its own writes are rolled back.
Anything slow or remote is enqueued as a job, never done here. ``__init__.py`` imports these
functions, which is what registers them.
"""
from __future__ import annotations

import logging

from backhaul.sdk import hookimpl

from .greetings import greet

log = logging.getLogger("backhaul.plugins.example")


@hookimpl
def account_created(account_id):
    # idempotent: a second delivery of the event finds the greeting by its key
    greet(f"account {account_id}", account_id=account_id, key=f"account-created:{account_id}")


@hookimpl
def account_status_changed(account_id, old_status, new_status, reason):
    log.info("account %s: %s -> %s (%s)", account_id, old_status, new_status, reason)


@hookimpl
def service_changed(account_id, subscription_id, change):
    log.info("account %s: subscription %s %s", account_id, subscription_id, change)


@hookimpl
def invoice_finalized(invoice_id, account_id):
    log.info("account %s: invoice %s finalized", account_id, invoice_id)


@hookimpl
def payment_received(payment_id, account_id, amount):
    greet(f"account {account_id}", account_id=account_id, key=f"thanks:{payment_id}")
    log.info("account %s: payment %s of %s", account_id, payment_id, amount)

