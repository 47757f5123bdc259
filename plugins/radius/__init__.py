"""RADIUS: Backhaul's own AAA server, CoA/Disconnect, sessions, and FreeRADIUS interop.

A separate plugin (not part of ``network``) because an ISP that provisions by API only, or
runs FreeRADIUS alone, enables ``network`` without a RADIUS server in its process list; it
uses only the network plugin's published ``api`` and ``hookspecs``.

Modules: wire.py (the packet guard), dictionary.py (+ ``dictionary.radius``), directory.py
(what a process keeps in memory, and its invalidation), handler.py (one datagram's
decisions), server.py (``backhaul serve radius.server``), replies.py (desired state as
attributes), accounting.py (sessions, usage), coa.py (CoA/Disconnect client and job),
freeradius.py (rlm_sql tables kept in sync, radacct pickup), graphql.py, views.py.
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (register the tables)


class Settings(Schema):
    bind = fields.Str(load_default="0.0.0.0")
    auth_port = fields.Int(load_default=1812, validate=validate.Range(1, 65535))
    acct_port = fields.Int(load_default=1813, validate=validate.Range(1, 65535))
    #: seconds; 0 leaves them out of the reply
    session_timeout = fields.Int(load_default=0, validate=validate.Range(0, 31_536_000))
    idle_timeout = fields.Int(load_default=0, validate=validate.Range(0, 31_536_000))
    interim_interval = fields.Int(load_default=300, validate=validate.Range(0, 86_400))
    #: a subscriber without a fixed address gets this pool name (if set)
    framed_pool = fields.Str(load_default="", validate=validate.Length(max=64))
    redirect_address_list = fields.Str(load_default="backhaul-delinquent",
                                       validate=validate.Length(min=1, max=63))
    #: Juniper policy names per rate, ``{kbps}`` replaced
    juniper_policy = fields.Str(load_default="bh-{kbps}k", validate=validate.Length(1, 60))
    juniper_redirect_policy = fields.Str(load_default="bh-redirect",
                                         validate=validate.Length(1, 60))
    suspended_message = fields.Str(load_default="Account suspended",
                                   validate=validate.Length(max=200))
    max_pps_per_source = fields.Int(load_default=5000, validate=validate.Range(1, 1_000_000))
    coa_timeout = fields.Float(load_default=2.0, validate=validate.Range(0.1, 30))
    coa_retries = fields.Int(load_default=2, validate=validate.Range(0, 10))
    #: answer Accounting-Requests once on local disk, write them to the database behind
    #: (off: answered once committed)
    accounting_journal = fields.Bool(load_default=True)
    #: where (default: ``<instance path>/radius-journal``); a local disk, never shared
    journal_dir = fields.Str(load_default="", validate=validate.Length(max=500))
    #: keep FreeRADIUS's rlm_sql tables in step (docs/freeradius/)
    freeradius = fields.Bool(load_default=False)
    #: write Cleartext-Password (CHAP) and NAS secrets there in clear; off: PAP hashes only
    freeradius_secrets = fields.Bool(load_default=False)
    #: minutes between full syncs and accounting pickups
    freeradius_minutes = fields.Int(load_default=1, validate=validate.Range(1, 60))


META = PluginMeta(name="radius", depends_on=("network",), settings_schema=Settings,
                  hookspecs=hookspecs,
                  description="RADIUS server, sessions, CoA/Disconnect, FreeRADIUS interop")


@hookimpl
def permissions():
    return [Permission("radius.view", "See RADIUS sessions, authentications and health"),
            Permission("radius.manage", "Change NAS RADIUS options; disconnect sessions")]


@hookimpl
def long_running_services():
    from .server import RadiusServer

    return [RadiusServer()]


@hookimpl
def network_subscribers_changed(subscription_ids):
    """Forget cached answers (every process) and bring live sessions in step (a job)."""
    from backhaul.sdk import enqueue

    from .accounting import open_sessions
    from .coa import coa_job
    from .directory import invalidate

    invalidate(subscription_ids)
    if open_sessions(subscription_ids):
        enqueue(coa_job, list(subscription_ids))
    from backhaul.sdk import current_plugin_settings

    if current_plugin_settings("radius").get("freeradius"):
        from .freeradius import sync_job

        enqueue(sync_job, list(subscription_ids))


@hookimpl
def periodic_jobs(context):
    from .directory import prune_invalidations

    jobs = [PeriodicJob("radius.prune_invalidations", prune_invalidations, timedelta(hours=6))]
    if context.settings.get("freeradius"):
        from .freeradius import pickup, sync_job

        every = timedelta(minutes=context.settings.get("freeradius_minutes", 1))
        jobs += [PeriodicJob("radius.freeradius_sync", sync_job, every * 15),
                 PeriodicJob("radius.freeradius_pickup", pickup, every)]
    return jobs


@hookimpl
def cli_commands(context):
    import click

    @click.command("radius-clients")
    def radius_clients_cmd():
        """Print a FreeRADIUS clients.conf for every NAS (shared secrets in clear)."""
        from .freeradius import clients_conf

        click.echo(clients_conf(), nl=False)

    @click.command("radius-sync")
    def radius_sync_cmd():
        """Rewrite FreeRADIUS's check/reply tables for every service now."""
        from backhaul.sdk import db

        from .freeradius import sync

        count = sync()
        db.session.commit()
        click.echo(f"{count} login(s) written")

    return [radius_clients_cmd, radius_sync_cmd]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("RADIUS", "radius.index", "radius.view", "Network", 20)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("radius.sessions", "Sessions", render_account_panel,
                         permission="radius.view", order=35)]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()
