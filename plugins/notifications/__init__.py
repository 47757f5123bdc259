"""The notifications plugin: email, SMS and webhook channels; triggered and manual messages.

Other plugins send through it with ``backhaul.plugins.notifications.api.notify(...)`` and declare
their event types through the hook it publishes (:mod:`.hookspecs`). Its own pieces:
channels (:mod:`.channels`), templates (:mod:`.templates`), routing (:mod:`.routing`),
queueing (:mod:`.messages`), delivery jobs (:mod:`.delivery`), manual notices
(:mod:`.notices`), HTML previews under a sandbox policy (:mod:`.previews`), staff pages
(:mod:`.views`) and GraphQL (:mod:`.graphql`).
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate

from backhaul.sdk import MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (models: register the tables)
from .api import EXTENSION_KEY, notify
from .catalogue import ACCOUNT_EVENT_TYPES, OWN_EVENT_TYPES
from .channels.http import http_url


class Settings(Schema):
    #: where customers reach Backhaul's public pages (unsubscribe links), e.g.
    #: https://portal.isp.example.net
    public_url = fields.Str(load_default="http://localhost:5000", validate=http_url)
    company_name = fields.Str(load_default="Backhaul")
    retry_base_seconds = fields.Int(load_default=60, validate=validate.Range(0, 86400))
    retry_max_seconds = fields.Int(load_default=6 * 3600, validate=validate.Range(0, 7 * 86400))
    max_attempts = fields.Int(load_default=8, validate=validate.Range(1, 100))
    stale_sending_minutes = fields.Int(load_default=15, validate=validate.Range(1, 1440))
    #: hosts and networks that SMS gateways and webhooks may reach although they are not
    #: public addresses (an SMS gateway on the ISP's LAN): ["10.0.0.5/32", "sms.lan"]
    outbound_allow = fields.List(fields.Str(), load_default=list)


META = PluginMeta(name="notifications", settings_schema=Settings, hookspecs=hookspecs,
                  description="Email, SMS and webhook notifications; templates and notices")


@hookimpl
def notification_channels():
    from .channels import builtin_channels

    return builtin_channels()


@hookimpl
def notification_event_types():
    return [*ACCOUNT_EVENT_TYPES, *OWN_EVENT_TYPES]


@hookimpl
def permissions():
    return [
        Permission("notifications.channels.view", "See notification channels and their logs"),
        Permission("notifications.channels.manage", "Configure and test notification channels"),
        Permission("notifications.templates.view", "See message templates"),
        Permission("notifications.templates.manage", "Write and preview message templates"),
        Permission("notifications.messages.view", "See sent and queued messages"),
        Permission("notifications.messages.manage", "Retry or cancel messages"),
        Permission("notifications.notices.send", "Send manual and maintenance notices"),
    ]


@hookimpl
def menu_items():
    section = "Notifications"
    return [
        MenuItem("Messages", "notifications.messages", "notifications.messages.view",
                 section=section, order=10),
        MenuItem("Notices", "notifications.notices", "notifications.notices.send",
                 section=section, order=20),
        MenuItem("Templates", "notifications.templates", "notifications.templates.view",
                 section=section, order=30),
        MenuItem("Channels", "notifications.channels", "notifications.channels.view",
                 section=section, order=40),
    ]


@hookimpl
def startup(app):
    from .messages import NotificationService

    app.extensions[EXTENSION_KEY] = NotificationService()


@hookimpl
def register_blueprints(app):
    from .views import build_blueprints

    return build_blueprints(app)


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def periodic_jobs():
    from .delivery import QUEUE, recover_stale
    from .previews import purge_job

    return [PeriodicJob("notifications.recover_stale", recover_stale, timedelta(minutes=1),
                        queue=QUEUE),
            PeriodicJob("notifications.purge_previews", purge_job, timedelta(minutes=15),
                        queue=QUEUE)]


@hookimpl
def account_timeline(account, limit):
    from .views import timeline_entries

    return timeline_entries(account, limit)


@hookimpl
def load_demo_data(app):
    from .demo import load

    load()


@hookimpl
def account_created(app, account_id):
    notify("accounts.created", account_id, {}, dedupe_key=f"account:{account_id}")


@hookimpl
def account_status_changed(app, account_id, old_status, new_status, reason):
    from .events import status_event

    found = status_event(old_status, new_status, reason)
    if found:
        notify(found[0], account_id, found[1])
