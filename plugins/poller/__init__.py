"""Poller: ICMP and SNMP monitoring of network devices and inventory items.

Templates say what to poll (ICMP count/interval/timeout; SNMP v2c or v3 authPriv OIDs with
gauge, counter → rate or string values and warning/critical thresholds with hysteresis;
the interface table) and apply to device roles, single devices, inventory models or
subnets (their discovered hosts). ``backhaul serve poller.loop [--shard
I/N]`` polls; a state change (up, warning, down, flapping) calls ``device_state_changed``
and e-mails the on-call address.

Modules: logic.py (rates, levels, state, flaps — no Flask), snmp_icmp.py (the probes),
snmp_wire.py (v2c BER and socket), targets.py (what to poll), loop.py (the service),
store.py (writing results), spool.py (results on disk while the database is away),
downsample.py, affected.py (accounts behind a down device), discovery.py, graphql.py,
views.py, charts.py.
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (register the tables)


class Settings(Schema):
    #: where state-change alerts go ("" sends none)
    oncall_email = fields.Str(load_default="", validate=validate.Length(max=254))
    concurrency = fields.Int(load_default=50, validate=validate.Range(1, 2000))
    #: this many raw state changes within ``flap_window`` seconds: flapping
    flap_changes = fields.Int(load_default=4, validate=validate.Range(2, 100))
    flap_window = fields.Int(load_default=900, validate=validate.Range(60, 86_400))
    retention_days = fields.Int(load_default=30, validate=validate.Range(1, 3650))
    flush_seconds = fields.Float(load_default=1.0, validate=validate.Range(0.05, 60))
    reload_seconds = fields.Float(load_default=30.0, validate=validate.Range(1, 3600))
    #: where results wait while the database is unreachable ("": <instance>/poller-spool)
    spool_dir = fields.Str(load_default="", validate=validate.Length(max=500))
    spool_max_mb = fields.Int(load_default=512, validate=validate.Range(1, 100_000))
    #: samples kept at full resolution; then 5-minute averages until ``five_minute_days``,
    #: then hourly averages until ``retention_days``
    raw_hours = fields.Int(load_default=48, validate=validate.Range(1, 24 * 365))
    five_minute_days = fields.Int(load_default=14, validate=validate.Range(1, 3650))


META = PluginMeta(name="poller", depends_on=("network",),
                  optional_depends_on=("inventory", "notifications"),
                  settings_schema=Settings, hookspecs=hookspecs,
                  description="ICMP/SNMP monitoring: templates, states, history, alerts")


@hookimpl
def permissions():
    return [Permission("poller.view", "See device states and metric history"),
            Permission("poller.manage", "Change monitoring templates and where they apply")]


@hookimpl
def long_running_services():
    from .loop import PollerService

    return [PollerService()]


@hookimpl
def periodic_jobs(context):
    from .jobs import discover_hosts, downsample_samples, prune_samples

    return [PeriodicJob("poller.prune_samples", prune_samples, timedelta(hours=6)),
            PeriodicJob("poller.downsample", downsample_samples, timedelta(minutes=15)),
            PeriodicJob("poller.discover", discover_hosts, timedelta(minutes=30))]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl(optionalhook=True)
def notification_event_types():  # published by the notifications plugin, when enabled
    from .affected import event_types

    return event_types()


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("poller.outages", "Outages", render_account_panel,
                         permission="poller.view", order=40)]


@hookimpl
def menu_items():
    return [MenuItem("Monitoring", "poller.index", "poller.view", "Network", 30)]
