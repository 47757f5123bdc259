"""The reports plugin: saved GraphQL queries shown as sortable tables, exported as CSV and
e-mailed on a weekly schedule.

=================  ====================================================================
models.py          the saved report (query, rows path, columns, schedule)
definition.py      checking a report on save: the query against the schema, the paths
                   against the query's selections, the schedule
table.py           the answer as a table: rows, sorting, formula-safe CSV, text
reports.py         save / delete / run (as the owner, narrowed to whoever asks)
schedule.py        next run in the ISP's time zone; the periodic job and the e-mail job
views.py           staff pages; graphql.py its part of the schema
=================  ====================================================================

Scheduled reports are e-mailed through the notifications plugin (its e-mail channel, retries
and delivery log): without it, reports still run and export, and a schedule says it cannot
send.
"""
from __future__ import annotations

from datetime import timedelta

from backhaul.sdk import MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (registers the table)

META = PluginMeta(name="reports", optional_depends_on=("notifications",),
                  description="Saved GraphQL reports: tables, CSV, weekly e-mail")


@hookimpl
def permissions():
    return [
        Permission("reports.view", "See and run saved reports (with at most your own "
                                   "permissions)"),
        Permission("reports.manage", "Write, schedule and delete your own reports"),
        Permission("reports.admin", "Change and delete anyone's reports"),
    ]


@hookimpl
def menu_items():
    return [MenuItem("Reports", "reports.index", "reports.view", section="Reports", order=10)]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def periodic_jobs():
    from .schedule import QUEUE, send_due

    return [PeriodicJob("reports.send_due", send_due, timedelta(minutes=1), queue=QUEUE)]
