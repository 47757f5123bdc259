"""Network: sites, devices, IP address management, subscriber credentials, desired-state
provisioning (issue 12, its core).

Modules: models.py (tables), ipam.py (subnets, pools, assignments, history), credentials.py
(PPPoE/hotspot login, DHCP identity), desired.py (a device's desired state in constant
queries), reconcile.py (render/read/diff/apply, dry run, records, jobs), api.py (published),
graphql.py. Provisioning backends come from other plugins (``network_mikrotik``) or the test
kit; this plugin owns the loop.
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (register the tables)


class Settings(Schema):
    #: what a delinquent account's data services get: suspend, throttle or redirect
    delinquent_behaviour = fields.Str(load_default="suspend", validate=validate.OneOf(
        ["suspend", "throttle", "redirect"]))
    #: the rate of a throttled service, kbit/s both ways
    throttle_kbps = fields.Int(load_default=512, validate=validate.Range(8, 10_000_000))
    #: minutes between reconciles of every device (drift repair)
    reconcile_minutes = fields.Int(load_default=15, validate=validate.Range(1, 1440))
    #: a pool this full (percent) sends an alert to ``alert_email`` (once a day per pool)
    utilisation_alert_percent = fields.Int(load_default=90, validate=validate.Range(1, 100))
    #: the NOC's address for pool alerts (through the notifications plugin's e-mail channel)
    alert_email = fields.Email(load_default="")


META = PluginMeta(name="network", depends_on=("billing",), settings_schema=Settings,
                  hookspecs=hookspecs, optional_depends_on=("notifications",),
                  description="Sites, devices, IP address management, subscriber credentials "
                              "and desired-state provisioning")


@hookimpl
def permissions():
    return [Permission("network.view", "See sites, devices, subnets, assignments, reconciles"),
            Permission("network.manage", "Manage sites, devices, subnets, credentials; "
                                         "reconcile devices"),
            Permission("network.credentials.reveal", "Show a subscriber's password")]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Network", "network.index", "network.view", "Network", 10)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("network.account", "Network", render_account_panel,
                         permission="network.view", order=30)]


@hookimpl
def load_demo_data(app):
    from .demo import load_demo

    load_demo()


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def periodic_jobs(context):
    from .reconcile import reconcile_all_job

    minutes = context.settings.get("reconcile_minutes", 15)
    return [PeriodicJob("network.reconcile_all", reconcile_all_job, timedelta(minutes=minutes))]


@hookimpl
def account_status_changed(app, account_id, old_status, new_status, reason):
    """Delinquency, restore, move-out: the account's services are reconciled by a job."""
    import sqlalchemy as sa

    from backhaul.sdk import db

    from .models import Credential
    from .reconcile import enqueue_for_subscriptions

    ids = set(db.session.scalars(sa.select(Credential.subscription_id).where(
        Credential.account_id == account_id)))
    return enqueue_for_subscriptions(ids) if ids else None


@hookimpl
def service_changed(app, account_id, subscription_id, change):
    """A speed change, an ended line: that service is reconciled by a job."""
    from .reconcile import enqueue_for_subscriptions

    return enqueue_for_subscriptions({subscription_id}) or None
