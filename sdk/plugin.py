"""The declarative description of a plugin (NetBox's ``PluginConfig`` idea, kept small).

A plugin module exposes ``META = PluginMeta(...)`` next to its ``@hookimpl`` functions. The core
reads it before registering anything: that is how it checks the SDK range, orders plugins by
their dependencies and validates settings before a single hook runs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

#: The version of the plugin API that this SDK offers. Plugins declare a PEP 440 range on it.
API_VERSION = "1.0"


@dataclass(frozen=True)
class PluginMeta:
    """What the core needs to know about a plugin before it runs any of its code.

    :param name: unique, lowercase, also the namespace (table prefix, URL prefix, permissions).
    :param description: one line for ``backhaul plugins list`` and the plugins page.
    :param requires_sdk: PEP 440 specifier on :data:`API_VERSION`, e.g. ``">=1.0,<2"``.
    :param depends_on: names of plugins that must be enabled and load first. A plugin may
        import another plugin's published ``api`` and ``hookspecs`` modules (nothing else of
        it) only if it names that plugin here or in ``optional_depends_on``.
    :param optional_depends_on: plugins used when enabled (loaded first then) and done
        without otherwise: guard their use (``plugin_enabled("notifications")``, or an API that
        is a no-op without its plugin, such as notifications' ``notify``).
    :param settings_schema: a marshmallow ``Schema`` class; settings are validated at start-up
        and loaded values are available as ``current_plugin_settings(name)``.
    :param essential: cannot be disabled by configuration. Reserved for the core's own
        features (core, auth, audit, accounts), which are always loaded; a third-party plugin
        that sets it is still disabled when configuration says so.
    :param hookspecs: a module or class of ``@hookspec`` functions that this plugin publishes
        for other plugins (pluggy ``add_hookspecs``).
    :param migrations: folder holding this plugin's Alembic ``versions``; by default the
        ``migrations/versions`` folder beside the plugin module, if it exists. Keep the
        default: while the plugin is disabled the core finds that folder without importing
        the plugin (its revisions must stay resolvable), but it cannot read this field.
    """

    name: str
    description: str = ""
    requires_sdk: str = ">=1.0,<2"
    depends_on: tuple[str, ...] = ()
    optional_depends_on: tuple[str, ...] = ()
    settings_schema: Any = None
    essential: bool = False
    hookspecs: ModuleType | type | None = None
    migrations: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PluginContext:
    """What a hook implementation knows about its own plugin, handed to it as ``context``.

    Contribution and extension-point hooks (and ``startup``) take a ``context`` argument;
    name it in your implementation to receive it (``def menu_items(context): ...``). Each
    plugin gets its own: no need to look up your settings by name or reach for
    ``current_app``.

    :param name: the plugin's name (``META.name``).
    :param settings: its validated settings (as ``current_plugin_settings(name)``).
    :param app: the Flask app being built (``None`` for hooks called outside an app, such as
        the CLI listing commands before one exists).
    """

    name: str
    settings: Mapping[str, Any]
    app: Any = None
