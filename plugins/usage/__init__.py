"""Usage: RADIUS accounting and NetFlow v5/v9/IPFIX collection, hourly and daily rollups per
service, caps with thresholds, usage lines on invoices.

Modules: netflow.py (the bounded decoder), collector.py (``backhaul serve usage.collector``),
attribution.py (address history -> service), rollup.py (batched upserts), totals.py (which
source counts, sums), radius_source.py (the radius plugin's ``radius_usage`` hook),
caps.py (allowances, thresholds, notifications), fair_usage.py (the throttle at 100%,
through network's ``network_desired_overrides``), invoicing.py (billing's
``invoice_lines``), graphql.py, views.py (the account panel).
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (register the tables)


class Settings(Schema):
    bind = fields.Str(load_default="0.0.0.0")
    netflow_port = fields.Int(load_default=2055, validate=validate.Range(1, 65535))
    #: comma-separated exporter addresses allowed to send; empty: any (counted per exporter)
    exporters = fields.Str(load_default="", validate=validate.Length(max=4000))
    #: seconds between batches of flows written (one transaction each)
    flush_seconds = fields.Float(load_default=1.0, validate=validate.Range(0.05, 60))
    #: seconds between cap checks of the services the collector saw (RADIUS: at once)
    caps_seconds = fields.Float(load_default=60, validate=validate.Range(0, 3600))
    #: keep raw flows this many hours (0: never written)
    raw_flow_hours = fields.Int(load_default=0, validate=validate.Range(0, 24 * 90))
    #: the source counted for a service without its own choice: radius or netflow
    default_source = fields.Str(load_default="radius",
                                validate=validate.OneOf(models.SOURCES))
    #: percent of the allowance at which customers are warned, once per month each
    thresholds = fields.Str(load_default="80,100",
                            validate=validate.Regexp(r"^\s*(\d{1,3}\s*(,\s*\d{1,3}\s*)*)?$"))
    #: price of a GB over the allowance, in billing's currency; "0": no usage lines
    overage_per_gb = fields.Str(load_default="0", validate=validate.Regexp(r"^\d{1,9}(\.\d{1,4})?$"))
    #: decimals of the GB quantities on invoices (rounded up)
    gb_decimals = fields.Int(load_default=3, validate=validate.Range(0, 6))


META = PluginMeta(name="usage", depends_on=("network", "billing"),
                  optional_depends_on=("radius", "notifications"), settings_schema=Settings,
                  description="Usage from RADIUS accounting and NetFlow/IPFIX; caps; "
                              "usage lines on invoices")


@hookimpl
def permissions():
    return [Permission("usage.view", "See usage, unattributed traffic and collector health"),
            Permission("usage.manage", "Choose the counted usage source of a service")]


@hookimpl(optionalhook=True)
def radius_usage(usages):  # published by the radius plugin, when enabled
    from .radius_source import record

    record(usages)


@hookimpl
def network_desired_overrides(subscription_ids):
    """Services over their allowance with a fair-usage rate are throttled to it."""
    from .fair_usage import overrides

    return overrides(subscription_ids)


@hookimpl
def service_changed(app, account_id, subscription_id, change):
    """A top-up bought (or ended), a plan changed: the account's caps are checked again, so
    a throttle is lifted (or applied) at once."""
    from .fair_usage import recheck_account

    recheck_account(account_id)


@hookimpl
def invoice_lines(account, period):
    from .invoicing import lines

    return lines(account, period)


@hookimpl(optionalhook=True)
def notification_event_types():  # published by the notifications plugin, when enabled
    from .caps import event_types

    return event_types()


@hookimpl
def long_running_services():
    from .collector import Collector

    return [Collector()]


@hookimpl
def periodic_jobs(context):
    from .fair_usage import lift_expired
    from .jobs import prune_flows

    return [PeriodicJob("usage.prune_flows", prune_flows, timedelta(hours=1)),
            PeriodicJob("usage.lift_expired_throttles", lift_expired, timedelta(hours=1))]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Usage", "usage.index", "usage.view", "Network", 30)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("usage.account", "Usage", render_account_panel,
                         permission="usage.view", order=36)]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()
