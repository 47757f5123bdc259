"""The customer portal (issue 19, its portal half).

Contacts with portal access sign in with e-mail and password (set through an e-mailed,
expiring, single-use link) in sessions of their own, and see their account: status,
balance, invoices (HTML and billing's PDF), transactions; they pay an invoice or the balance
through an enabled payment gateway, save or replace a card and turn auto-pay on or off
unless the ISP locked it on. Other plugins add panels through the ``portal_panels`` hook
(``hookspecs.py``, types in ``api.py``). Staff brand it (name, logo, colours, support
contact) and send contacts their set-password link.

Modules: models.py, signin.py (passwords, throttle), sessions.py (the portal cookie),
links.py (set-password links), branding.py, payments.py (paying through billing's API),
views.py (the customer pages), views_staff.py (branding page, account panel), graphql.py.
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (register the tables)


class Settings(Schema):
    #: how long an e-mailed set-password link works
    link_minutes = fields.Int(load_default=60, validate=validate.Range(5, 1440))
    session_idle_minutes = fields.Int(load_default=30, validate=validate.Range(1, 1440))
    session_absolute_hours = fields.Int(load_default=12, validate=validate.Range(1, 720))
    #: failures for one address from one IP in the window before that pair is paused
    throttle_attempts = fields.Int(load_default=5, validate=validate.Range(1, 100))
    throttle_window_minutes = fields.Int(load_default=15, validate=validate.Range(1, 1440))
    #: failures for one address from any IP (within lockout_minutes) before it is locked
    lockout_threshold = fields.Int(load_default=10, validate=validate.Range(1, 1000))
    lockout_minutes = fields.Int(load_default=15, validate=validate.Range(1, 1440))
    #: the portal's public address for links in e-mails (default: the request's own)
    public_url = fields.Str(load_default="", validate=validate.Length(max=300))


META = PluginMeta(name="portal", depends_on=("billing", "notifications"),
                  optional_depends_on=("usage",),
                  settings_schema=Settings, hookspecs=hookspecs,
                  description="Customer portal: sign-in, invoices, payments, auto-pay, "
                              "branding")


@hookimpl
def permissions():
    return [Permission("portal.settings.manage", "Brand the customer portal and decide "
                                                 "whether customers may turn auto-pay off"),
            Permission("portal.access.manage", "Send contacts their portal set-password "
                                               "link")]


@hookimpl
def register_blueprints(app):
    from .views import bp
    from .views_staff import staff_bp

    return [bp, staff_bp]


@hookimpl
def menu_items():
    return [MenuItem("Customer portal", "portal_staff.branding_page", "portal.settings.manage",
                     "Admin", 60)]


@hookimpl
def account_panels():
    from .views_staff import render_account_panel

    return [AccountPanel("portal.account", "Customer portal", render_account_panel,
                         permission="portal.access.manage", order=60)]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def portal_panels(viewer):
    """The portal's own panel of the usage plugin's figures (when it is enabled)."""
    from backhaul.sdk import plugin_enabled

    if not plugin_enabled("usage"):
        return []
    from .usage_panel import panels

    return panels(viewer)


@hookimpl
def periodic_jobs():
    from .jobs import housekeeping, reconcile_payments

    return [PeriodicJob("portal.housekeeping", housekeeping, timedelta(days=1)),
            PeriodicJob("portal.reconcile_payments", reconcile_payments,
                        timedelta(minutes=15))]
