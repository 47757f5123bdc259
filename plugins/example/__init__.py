"""The example plugin: a walk-through that implements every hook Backhaul offers.

Installed through an entry point in the ``backhaul.plugins`` group (see ``pyproject.toml``:
``example = "backhaul.plugins.example"``), exactly as a third-party plugin would be. It imports
only ``backhaul.sdk`` and its own modules. This file holds ``META`` and the hook
implementations, each handing over to a sibling module:

=================  ====================================================================
settings.py        the settings schema (validated at start-up)
models.py          its table; ``migrations/versions/`` holds its Alembic branch "example"
greetings.py       the domain logic: plain functions
jobs.py            background and periodic jobs
extensions.py      one implementation of each extension point
views.py           a staff page (``templates/example/``)
graphql.py         its part of the GraphQL schema
cli.py             ``backhaul example greet NAME``
listings.py        search results, timeline entries, an account panel
actions.py         a scheduled action type
services.py        a long-running service (``backhaul serve example.greeter``)
subscribers.py     reactions to domain events
hookspecs.py       a hook this plugin publishes for other plugins
=================  ====================================================================
"""
from __future__ import annotations

from datetime import timedelta

from backhaul.sdk import (
    AccountPanel,
    MenuItem,
    PeriodicJob,
    Permission,
    PluginMeta,
    current_plugin_settings,
    hookimpl,
)

# (importing models registers the table; importing subscribers' functions registers them)
from . import actions, cli, demo, extensions, graphql, hookspecs, jobs, listings, models, views  # noqa: F401
from .settings import ExampleSettings
from .subscribers import (  # noqa: F401
    account_created,
    account_status_changed,
    invoice_finalized,
    payment_received,
    service_changed,
)

META = PluginMeta(
    name="example",
    description="A walk-through plugin: greetings, and one of every kind of hook",
    requires_sdk=">=1.0,<2",
    settings_schema=ExampleSettings,
    hookspecs=hookspecs,
)


# ----------------------------------------------------------------- contributions (start-up)
@hookimpl
def startup(app, context):
    """One-off set-up per app: here, the greeting this app uses (from the plugin's context)."""
    app.extensions["example.greeting"] = context.settings["greeting"]


@hookimpl
def long_running_services():
    from .services import Greeter

    return [Greeter()]


@hookimpl
def permissions():
    return [Permission("example.greetings.view", "See greetings (example plugin)")]


@hookimpl
def menu_items():
    return [MenuItem("Greetings", "example.index", "example.greetings.view",
                     section="Example", order=100)]


@hookimpl
def register_blueprints(app):
    return [views.bp]  # module level: Flask 3.1 registers one blueprint on several apps


@hookimpl
def account_panels():
    return [AccountPanel("example.greetings", "Greetings", listings.render_panel,
                         permission="example.greetings.view", order=900)]


@hookimpl
def graphql_schema():
    return graphql.contribution()


@hookimpl
def periodic_jobs():
    return [PeriodicJob("example.tidy", jobs.tidy, every=timedelta(hours=6))]


@hookimpl
def cli_commands():
    return [cli.make_group()]


@hookimpl
def scheduled_action_types():
    return actions.action_types()


# ----------------------------------------------------------------- per request / command
@hookimpl
def search(query, user, limit):
    return listings.search(query, user, limit)


@hookimpl
def account_timeline(account, limit):
    return listings.timeline(account, limit)


@hookimpl
def load_demo_data(app):
    demo.load()


# ----------------------------------------------------------------- extension points
@hookimpl
def service_types():
    return [extensions.FlatServiceType()]


@hookimpl
def payment_gateways():
    return [extensions.FakeGateway()]


@hookimpl
def provisioning_backends():
    return [extensions.FileBackend()]


@hookimpl
def notification_channels():
    return [extensions.LogChannel()]


# ----------------------------------------------------------------- its own published hook
@hookimpl
def example_greeting_suffix(name):
    """The plugin answers its own hook too: the configured sign-off, if any."""
    return current_plugin_settings("example").get("sign_off")
