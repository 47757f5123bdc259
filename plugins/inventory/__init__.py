"""Inventory: manufacturers and models with their own fields, items tracked by MAC, serial,
IMSI and ICCID, bulk items by quantity, storage locations, movement history, barcode intake,
CSV import/export, low-stock alerts and the "swap equipment" scheduled event (issue 18).

Modules: models.py (tables), values.py (validating and normalising one value), catalogue.py
(manufacturers, models, locations), stock.py (receive, move, assign, install, return,
retire, lookup, history), alerts.py (low stock), actions.py (swap equipment), csvio.py,
api.py (published), graphql.py, views.py.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (register the tables)


class Settings(Schema):
    #: the number of the account (the ISP's own) whose contacts get low-stock alerts
    alert_account = fields.Str(load_default="", validate=validate.Length(max=32))


META = PluginMeta(name="inventory", optional_depends_on=("notifications", "network"),
                  settings_schema=Settings,
                  description="Equipment and stock: models, items by MAC/serial/IMSI/ICCID, "
                              "locations, movements, barcode intake")


@hookimpl
def permissions():
    return [Permission("inventory.view", "See models, locations, items and their history"),
            Permission("inventory.stock.manage", "Receive, move, assign, install, return and "
                                                 "retire items; import items"),
            Permission("inventory.catalogue.manage", "Manage manufacturers, models, locations "
                                                     "and low-stock thresholds")]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Inventory", "inventory.index", "inventory.view", "Network", 20)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("inventory.account", "Equipment", render_account_panel,
                         permission="inventory.view", order=35)]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def scheduled_action_types():
    from .actions import action_types

    return action_types()


@hookimpl(optionalhook=True)
def notification_event_types():  # published by the notifications plugin, when enabled
    from .alerts import event_types

    return event_types()


@hookimpl
def load_demo_data(app):
    from .demo import load_demo

    load_demo()


@hookimpl
def search(query, user, limit):
    from .listings import search as search_items

    return search_items(query, user, limit)


@hookimpl
def account_timeline(account, limit):
    from .listings import timeline

    return timeline(account, limit)
