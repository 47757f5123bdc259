"""Scheduling: field jobs (issue 20, its second half — the core of it).

Job types with a default duration and a task checklist; technicians with working days,
hours and skills; jobs for an account or a ticket (one action from the ticket page), booked
on a technician's calendar with conflicts and off-duty times refused; completed only with
their required tasks done; the tenant told when a visit is booked, moved and the day before
(notifications plugin). Modules: models.py, jobs.py (the rules), events.py, views.py,
graphql.py, mapping.py (an offline SVG map of the busiest buildings). The calendar moves
a job by drag and drop (static/calendar.js). With the inventory plugin a job carries
equipment to install or collect, moved through that plugin's api when the job completes.
"""
from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates

from backhaul.sdk import MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

from . import models  # noqa: F401  (register the tables)


class Settings(Schema):
    #: a slippy-map tile server for the map's background, e.g.
    #: ``https://tiles.isp.example/{z}/{x}/{y}.png`` (empty: the map is drawn from the
    #: addresses' coordinates alone and needs no network — the default)
    map_tile_url = fields.Str(load_default="", validate=validate.Length(max=500))
    #: shown under the map when tiles are used (most tile servers require it)
    map_tile_attribution = fields.Str(load_default="", validate=validate.Length(max=300))

    @validates("map_tile_url")
    def _tile_url(self, value: str, **_kw) -> None:
        from .mapping import tile_url_problem

        problem = tile_url_problem(value)
        if problem:
            raise ValidationError(problem)

META = PluginMeta(name="scheduling", depends_on=("notifications",),
                  optional_depends_on=("tickets", "inventory"), settings_schema=Settings,
                  description="Field jobs: checklists, technicians, a calendar, tenant "
                              "notifications")


@hookimpl
def permissions():
    return [Permission("scheduling.job.view", "See jobs and calendars"),
            Permission("scheduling.job.manage", "Create, book, complete and cancel jobs"),
            Permission("scheduling.settings.manage", "Manage job types and technicians")]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Jobs", "scheduling.index", "scheduling.job.view", "Field jobs", 10),
            MenuItem("Calendar", "scheduling.calendar", "scheduling.job.view", "Field jobs",
                     20),
            MenuItem("Map", "scheduling.map_page", "scheduling.job.view", "Field jobs", 25),
            MenuItem("Job set-up", "scheduling.setup", "scheduling.settings.manage",
                     "Field jobs", 30)]


@hookimpl
def notification_event_types():
    from .events import EVENT_TYPES

    return EVENT_TYPES


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def periodic_jobs():
    from .jobs import send_reminders

    return [PeriodicJob("scheduling.reminders", send_reminders, timedelta(hours=1))]


@hookimpl
def account_timeline(account, limit):
    from .views import timeline_entries

    return timeline_entries(account, limit)
