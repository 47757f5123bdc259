"""Every hook the core calls. Each docstring is the reference documentation of that hook.

Three groups:

* **Contributions** are collected once per app at start-up, plugin by plugin; a plugin whose
  contribution hook raises (or returns something invalid or duplicated) is marked *failed*
  (the reason names the hook) and none of its contributions are used. Each receives, if it
  names it, ``context``: a ``backhaul.sdk.PluginContext`` with the plugin's own name, settings
  and the app. ``startup(app)`` runs once everything is collected. ``account_panels``, ``search`` and
  ``account_timeline`` are called per request; a failure there is contained and reported.
* **Extension points** return objects implementing a base class from ``backhaul.sdk``.
* **Events** are called after the transaction that caused them has committed (never for a
  rolled-back change). An exception in one implementation is logged with the plugin's name
  and does not stop the others. Reactions that touch the outside world enqueue a job.

Hooks only ever evolve by adding arguments; an implementation may accept any subset of a
spec's arguments (pluggy passes only those it names). Implementations run one at a time in
load order; ``@hookimpl(tryfirst=True)`` runs before the unmarked and ``trylast=True`` after
(a built-in fallback marked ``trylast`` yields to a third party's answer); wrappers are
refused.
"""
from __future__ import annotations

from backhaul.sdk.markers import PROJECT, hookspec  # noqa: F401  (PROJECT: for the manager)


# ============================================================================ contributions
@hookspec
def register_blueprints(app, context):
    """Contribute Flask blueprints (staff UI pages, webhooks, portal routes).

    Called once per app while it is created. A blueprint whose routes are all defined when
    its module is imported may live at module level and be returned to every app (Flask 3.1
    registers one blueprint on several apps). Do one-off set-up in ``startup``, not here.

    :param app: the Flask app being created.
    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``flask.Blueprint``; each plugin's URL prefix should be ``/<name>``.
        Every view must check a permission (``backhaul.sdk.permission_required``).
    """


@hookspec
def menu_items(context):
    """Contribute entries to the staff navigation.

    Called once at start-up.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.MenuItem``; each is shown only to users holding its
        ``permission``.
    """


@hookspec
def account_panels(context):
    """Contribute panels to the account dashboard.

    Called once at start-up; each panel's ``render(account)`` is called per page view.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.AccountPanel``.
    """


@hookspec
def graphql_schema(context):
    """Contribute to the GraphQL schema.

    Called once at start-up. The SDL extends the core's types (``extend type Query {...}``);
    names of new types start with the plugin's prefix. Protect fields with the
    ``@requires(permission: "...")`` directive or ``backhaul.sdk.graphql.requires``.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a ``backhaul.sdk.GraphQLContribution`` (SDL string and Ariadne bindables).
    """


@hookspec
def permissions(context):
    """Declare the permissions this plugin checks.

    Called once at start-up. Names are namespaced ``<plugin>.<object>.<verb>``; a name
    declared by two plugins fails the second one.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.Permission``.
    """


@hookspec
def periodic_jobs(context):
    """Declare jobs that the scheduler runs periodically.

    Called once at start-up by ``backhaul scheduler`` (and the embedded scheduler of
    ``backhaul run``). Each period slot is enqueued once even when two schedulers race.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.PeriodicJob``.
    """


@hookspec
def cli_commands(context):
    """Contribute sub-commands to the ``backhaul`` command line.

    Called when the CLI starts. Commands run inside an app context.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``click.Command`` (or groups); names must not clash with the core's.
    """


@hookspec
def long_running_services(context):
    """Contribute long-running processes (a RADIUS server, a NetFlow collector, a poller).

    Called once at start-up. Operators start each with ``backhaul serve NAME [--shard I/N]``;
    the core handles signals (graceful stop), heartbeats (health on the Plugins page) and
    sharding. Nothing runs unless an operator starts it.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.services.Service``; names ``<plugin>.<service>``,
        unique across plugins.
    """


@hookspec
def scheduled_action_types(context):
    """Contribute types of scheduled events (future-dated actions on an account).

    Called once at start-up. Core types: change status, move-out, switch contact.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.ScheduledActionType``.
    """


@hookspec
def search(query, user, limit):
    """Answer the global search box.

    Called per search request, for every plugin; results are merged by score. An
    implementation must only return what ``user`` may see.

    :param query: the stripped search text (at least 2 characters).
    :param user: the signed-in staff user; check what they may see with
        ``backhaul.sdk.user_may(user, "<plugin>.<object>.view")``.
    :param limit: the most results wanted from this plugin.
    :returns: a list of ``backhaul.sdk.SearchResult``.
    """


@hookspec
def account_timeline(account, limit):
    """Add entries to an account's timeline (invoices, tickets, jobs...).

    Called per timeline view; results from every plugin are merged by time.

    :param account: the ``Account`` shown.
    :param limit: the most entries wanted from this plugin.
    :returns: a list of ``backhaul.sdk.TimelineEntry``.
    """


@hookspec
def startup(app, context):
    """Set the plugin up for ``app``, once, after every contribution was collected.

    Called once per app, in load order (dependencies first), inside an app context: keep
    per-app objects in ``app.extensions["<plugin>..."]``, warm caches, check the outside
    world. Raising marks the plugin failed (the reason names this hook; fatal in strict mode)
    and its dependents with it. Do not open connections that must outlive a request here:
    long-running processes are ``long_running_services``.

    :param app: the Flask app just built.
    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    """


@hookspec
def load_demo_data(app):
    """Create demo records for ``backhaul demo load``.

    Called inside an app context, after the core's own demo data, in dependency order. Must
    be idempotent: running it twice changes nothing (look records up before creating them).

    :param app: the Flask app.
    """


# ============================================================================ extension points
@hookspec
def service_types(context):
    """Contribute service types (data, voice, general, recurring non-data...).

    Called once at start-up. Keys must be unique across plugins.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.ServiceType`` instances.
    """


@hookspec
def payment_gateways(context):
    """Contribute payment gateways (Stripe, ...).

    Called once at start-up.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.PaymentGateway`` instances.
    """


@hookspec
def provisioning_backends(context):
    """Contribute provisioning backends (MikroTik, Juniper, Kea...).

    A backend keeps the Backhaul-owned part of a device equal to the desired state the
    network plugin computes: ``render`` / ``read`` / ``apply``, see
    ``backhaul.sdk.provisioning``. Called once at start-up.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.ProvisioningBackend`` instances.
    """


@hookspec
def notification_channels(context):
    """Contribute notification channels (email, SMS, webhook...).

    Called once at start-up.

    :param context: a ``backhaul.sdk.PluginContext``: your plugin's ``name``, its
        ``settings`` and the ``app``.
    :returns: a list of ``backhaul.sdk.NotificationChannel`` instances.
    """


# ============================================================================ events
@hookspec
def account_created(app, account_id):
    """An account was created. Called after commit.

    :param app: the Flask app.
    :param account_id: the new account's id.
    """


@hookspec
def account_status_changed(app, account_id, old_status, new_status, reason):
    """An account's status changed. Called after commit.

    Network plugins suspend, throttle or restore service here (by enqueuing a job); the
    notifications plugin announces it.

    :param app: the Flask app.
    :param account_id: the account's id.
    :param old_status: the previous status key (``None`` for a new account).
    :param new_status: the new status key.
    :param reason: a short machine-readable reason (``"manual"``, ``"delinquency"``,
        ``"scheduled"``, ``"move_out"``...).
    """


@hookspec
def service_changed(app, account_id, subscription_id, change):
    """A subscription was added, changed or ended. Called after commit.

    :param app: the Flask app.
    :param account_id: the account's id.
    :param subscription_id: the subscription's id.
    :param change: ``"added"``, ``"changed"`` or ``"ended"``.
    """


@hookspec
def invoice_finalized(app, invoice_id, account_id):
    """An invoice was finalized (and will never be edited). Called after commit.

    :param app: the Flask app.
    :param invoice_id: the invoice's id.
    :param account_id: the account's id.
    """


@hookspec
def payment_received(app, payment_id, account_id, amount):
    """A payment was recorded in the ledger. Called after commit.

    :param app: the Flask app.
    :param payment_id: the payment's id.
    :param account_id: the account's id.
    :param amount: the amount, a ``backhaul.sdk.Money``.
    """


# ============================================================================ groups
#: Hooks collected once per app at start-up (and the per-request ones listed first above).
CONTRIBUTIONS = ("startup", "register_blueprints", "menu_items", "account_panels", "graphql_schema",
                 "permissions", "periodic_jobs", "cli_commands", "scheduled_action_types",
                 "long_running_services",
                 "search", "account_timeline", "load_demo_data")
#: Hooks returning objects that implement a base class from ``backhaul.sdk``.
EXTENSION_POINTS = ("service_types", "payment_gateways", "provisioning_backends",
                    "notification_channels")
#: Domain events, called after commit through ``backhaul.sdk.emit``.
EVENTS = ("account_created", "account_status_changed", "service_changed", "invoice_finalized",
          "payment_received")
#: Events about nouns the core does not own are declared by the plugin that owns the noun, in
#: its ``hookspecs.py``, at the grain its consumers need: usage by the usage plugin (per
#: service and source, in batches), device state by the network/monitoring plugin.
