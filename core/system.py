"""The core's own contributions, made through the same hooks any plugin uses."""
from __future__ import annotations

from backhaul.sdk import MenuItem, Permission, PluginMeta, hookimpl

from . import instances, services  # noqa: F401  (register their tables)

META = PluginMeta(name="core", description="Plugin framework, jobs, UI shell and GraphQL",
                  essential=True)


@hookimpl
def permissions():
    return [
        Permission("core.plugins.view", "See installed plugins and why one failed"),
        Permission("core.jobs.view", "See background jobs and failures"),
        Permission("core.jobs.retry", "Retry failed background jobs"),
        Permission("core.graphql.explore", "Use the GraphQL explorer"),
    ]


@hookimpl
def menu_items():
    return [
        MenuItem("Plugins", "core_ui.plugins", "core.plugins.view", section="Admin", order=90),
        MenuItem("GraphQL explorer", "graphql.explorer", "core.graphql.explore", section="Admin",
                 order=95),
        MenuItem("GraphQL reference", "graphql.reference", "core.graphql.explore",
                 section="Admin", order=96),
    ]


@hookimpl
def cli_commands():
    from .secrets_cli import secrets_group

    return [secrets_group]
