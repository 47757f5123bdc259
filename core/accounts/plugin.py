"""The core's accounts feature, contributed through public hooks like any plugin."""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (registers the tables on the metadata)


class AccountsSettings(Schema):
    """``[plugins.accounts]`` settings."""

    #: country assumed for phone numbers and addresses written without one
    default_country = fields.String(load_default="US", validate=validate.Regexp(
        r"^[A-Za-z]{2}$", error="Use a two-letter country code such as US or CA."))
    #: how long a runner holds a scheduled event before another may take it over
    event_lease_seconds = fields.Integer(load_default=300, validate=validate.Range(min=1))
    #: attempts before a failing scheduled event is marked failed
    event_max_attempts = fields.Integer(load_default=5, validate=validate.Range(min=1, max=50))


META = PluginMeta(name="accounts", description="Accounts, contacts, addresses and buildings, "
                  "notes, calls, scheduled events, move-out and move-in",
                  essential=True, settings_schema=AccountsSettings)

PERMISSIONS = (
    ("accounts.account.view", "See accounts, their contacts, timeline and status"),
    ("accounts.account.edit", "Create and change accounts, contacts and statuses"),
    ("accounts.status.manage", "Configure account statuses"),
    ("accounts.address.view", "See addresses, buildings and serviceability"),
    ("accounts.address.edit", "Create and change addresses and buildings, generate units"),
    ("accounts.address.import", "Import addresses from CSV"),
    ("accounts.note.edit", "Write, pin and delete account notes"),
    ("accounts.call.edit", "Log calls"),
    ("accounts.event.manage", "Schedule, cancel and reschedule events (move-outs...)"),
    ("accounts.tenant.move", "Onboard tenants and schedule move-outs"),
)


@hookimpl
def permissions():
    return [Permission(name, description) for name, description in PERMISSIONS]


@hookimpl
def scheduled_action_types():
    from .actions import core_action_types

    return core_action_types()


@hookimpl
def periodic_jobs():
    from .scheduling import run_due_events

    return [PeriodicJob("accounts.scheduled_events", run_due_events, timedelta(seconds=60))]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def register_blueprints(app):
    from .views import make_blueprint

    return [make_blueprint()]


@hookimpl
def menu_items():
    return [
        MenuItem("Accounts", "accounts.account_list", "accounts.account.view", section="Customers",
                 order=10),
        MenuItem("Addresses", "accounts.address_list", "accounts.address.view",
                 section="Customers", order=20),
        MenuItem("Buildings", "accounts.building_list", "accounts.address.view",
                 section="Customers", order=21),
        MenuItem("Account statuses", "accounts.status_list", "accounts.status.manage",
                 section="Admin", order=40),
    ]


@hookimpl
def load_demo_data(app):
    from .demo import load

    load(app)


@hookimpl
def search(query, user, limit):
    from .search import search as run

    return run(query, limit)
