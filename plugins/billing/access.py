"""The permissions billing checks (``billing.<object>.<verb>``)."""
from __future__ import annotations

from backhaul.sdk import Permission

PERMISSIONS = (
    Permission("billing.invoice.view", "See invoices, credit notes, balances and the ledger"),
    Permission("billing.invoice.manage", "Create, edit and finalize draft invoices"),
    Permission("billing.invoice.void", "Void invoices nothing has been paid on"),
    Permission("billing.credit_note.create", "Issue credit notes"),
    Permission("billing.payment.record", "Record manual payments (cash, cheque, transfer)"),
    Permission("billing.payment.reverse", "Reverse payments (bounced, chargeback) and refund"),
    Permission("billing.subscription.manage", "Add, change and end subscriptions, charges "
                                              "and adjustments"),
    Permission("billing.settings.manage", "Change an account's billing settings"),
    Permission("billing.catalogue.view", "See services, packages and tax classes"),
    Permission("billing.catalogue.manage", "Create and change services, packages and tax "
                                           "classes"),
    Permission("billing.run.view", "See billing runs and their preview"),
    Permission("billing.run.manage", "Start and retry billing runs"),
    Permission("billing.delinquency.view", "See delinquent accounts and who will be "
                                           "suspended tonight"),
    Permission("billing.delinquency.manage", "Exclude accounts from delinquency"),
)

__all__ = ["PERMISSIONS"]
