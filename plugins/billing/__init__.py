"""The billing plugin: catalogue, subscriptions, invoices, the ledger, the billing run,
auto-pay, fees and delinquency.

This file holds ``META`` and the hook implementations, each handing over to a module:

================  =====================================================================
rating.py         money arithmetic and THE rounding rule (half-even, once per line)
cycles.py         billing calendar: monthly periods, quarterly/yearly service cycles
proration.py      proration by days; what a subscription owes for a period
compose.py        an account's invoice for a period, from snapshots (pure)
allocation.py     applying money to open invoices (pure)
catalogue.py      service types (the ``service_types`` extension point), services, packages
subscriptions.py  subscriptions, dated changes, one-time charges, adjustments
invoices.py       drafts, finalizing (gap-free numbers: numbering.py), voids, credit notes
ledger.py         append-only transactions, payments, allocations, reversals, refunds
run.py            the billing run (snapshot.py loads, bulk.py writes, set-based)
autopay.py        charging stored payment methods through ``payment_gateways``, dunning
fees.py           late fee, reconnection fee (the printed-invoice fee is in compose.py)
delinquency.py    the delinquency state machine and the "suspended tonight" preview
pdf.py            the PDF invoice; delivery.py mails it through notifications
hookspecs.py      ``invoice_lines(account, period)``, published for other plugins
================  =====================================================================
"""
from __future__ import annotations

from datetime import timedelta

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, PluginMeta, hookimpl

from . import consequences, hookspecs, models  # noqa: F401  (models: register the tables)
from .settings import BillingSettings

consequences.register()  # what follows money writes (see followups.py)

META = PluginMeta(name="billing", settings_schema=BillingSettings, hookspecs=hookspecs,
                  optional_depends_on=("notifications",),
                  description="Services and packages, invoices and the ledger, automated "
                              "billing, auto-pay, fees and delinquency")


@hookimpl
def service_types():
    from .catalogue import BUILTIN_SERVICE_TYPES

    return [kind() for kind in BUILTIN_SERVICE_TYPES]


@hookimpl
def account_status_changed(app, account_id, old_status, new_status, reason):
    """A move-out ends the tenant's services (see :mod:`.moveout`)."""
    if reason != "move_out":
        return None
    from backhaul.sdk import current_plugin_settings

    from . import moveout

    policy = current_plugin_settings("billing").get("move_out_credit", "prorate")
    return len(moveout.end_services(account_id, moveout.today(), policy))


@hookimpl
def permissions():
    from .access import PERMISSIONS  # (a submodule named "permissions" would shadow the hook)

    return list(PERMISSIONS)


@hookimpl
def periodic_jobs():
    from . import autopay, delinquency, fees, run

    day = timedelta(days=1)
    return [PeriodicJob("billing.run", run.daily_job, day, queue="billing"),
            PeriodicJob("billing.late_fees", fees.late_fee_job, day, queue="billing"),
            PeriodicJob("billing.delinquency", delinquency.nightly_job, day, queue="billing"),
            PeriodicJob("billing.autopay_reconcile", autopay.reconcile_job,
                        timedelta(minutes=15), queue="billing")]


@hookimpl
def scheduled_action_types():
    from .actions import action_types

    return action_types()


@hookimpl(optionalhook=True)
def notification_event_types():  # published by the notifications plugin, when enabled
    from .notices import event_types

    return event_types()


@hookimpl
def register_blueprints(app):
    from .views import make_blueprint

    return [make_blueprint()]


@hookimpl
def menu_items():
    section = "Billing"
    return [MenuItem("Invoices", "billing.invoice_list", "billing.invoice.view", section, 10),
            MenuItem("Billing runs", "billing.runs", "billing.run.view", section, 20),
            MenuItem("Suspended tonight", "billing.delinquency_preview",
                     "billing.delinquency.view", section, 30),
            MenuItem("Catalogue", "billing.catalogue_page", "billing.catalogue.view", section,
                     40)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("billing.account", "Billing", render_account_panel,
                         permission="billing.invoice.view", order=20)]


@hookimpl
def graphql_schema():
    from .graphql_contribution import contribution

    return contribution()


@hookimpl
def cli_commands():
    from .cli import make_group

    return [make_group()]


@hookimpl
def account_timeline(account, limit):
    from .listings import timeline

    return timeline(account, limit)


@hookimpl
def search(query, user, limit):
    from .listings import search as search_invoices

    return search_invoices(query, user, limit)


@hookimpl
def load_demo_data(app):
    from .listings import load_demo

    load_demo()
