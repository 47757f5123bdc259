"""The core's auth feature, contributed through public hooks like any plugin."""
from __future__ import annotations

from datetime import timedelta

from backhaul.sdk import MenuItem, PeriodicJob, Permission, PluginMeta, hookimpl

META = PluginMeta(name="auth", description="Staff users, roles, permissions, sign-in and "
                                           "API tokens", essential=True)


@hookimpl
def permissions():
    return [
        Permission("auth.users.manage", "Create, edit, deactivate and unlock staff users"),
        Permission("auth.roles.manage", "Create and edit roles and what they grant"),
        Permission("auth.tokens.manage", "See and revoke every user's API tokens"),
    ]


@hookimpl
def menu_items():
    return [
        MenuItem("Users", "auth.users_list", "auth.users.manage", section="Admin", order=10),
        MenuItem("Roles", "auth.roles", "auth.roles.manage", section="Admin", order=20),
        MenuItem("API tokens", "auth.tokens_admin", "auth.tokens.manage", section="Admin",
                 order=30),
    ]


@hookimpl
def register_blueprints(app):
    from .views import make_blueprint

    return [make_blueprint()]


@hookimpl
def cli_commands():
    from .cli import tokens, users

    return [users, tokens]


@hookimpl
def periodic_jobs():
    return [PeriodicJob("auth.purge", purge_expired, every=timedelta(hours=6))]


def purge_expired() -> None:
    """Forget sessions and sign-in attempts older than 30 days (runs as a periodic job)."""
    from . import sessions, throttle

    sessions.purge()
    throttle.purge()


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()
