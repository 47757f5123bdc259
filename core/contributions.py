"""The start-up phase: collect every enabled plugin's contributions, plugin by plugin.

A plugin whose contribution hook raises, returns the wrong type or re-uses a key another
plugin registered is marked failed, and nothing it contributed is used (its dependents fail
with it). What remains is a validated registry: the core reads from it, never from hooks.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, request

from backhaul.sdk.contributions import (
    AccountPanel,
    GraphQLContribution,
    MenuItem,
    PeriodicJob,
    Permission,
    ScheduledActionType,
)
from backhaul.sdk.extensions import (
    NotificationChannel,
    PaymentGateway,
    ServiceType,
)
from backhaul.sdk.provisioning import ProvisioningBackend
from backhaul.sdk.services import Service

from .plugins import Plugins


@dataclass(frozen=True)
class _Kind:
    type: type
    key: Callable[[Any], str]
    many: bool = True


KINDS: dict[str, _Kind] = {
    "permissions": _Kind(Permission, lambda p: p.name),
    "menu_items": _Kind(MenuItem, lambda m: m.endpoint),
    "account_panels": _Kind(AccountPanel, lambda p: p.key),
    "graphql_schema": _Kind(GraphQLContribution, lambda g: id(g), many=False),
    "periodic_jobs": _Kind(PeriodicJob, lambda j: j.name),
    "scheduled_action_types": _Kind(ScheduledActionType, lambda t: t.key),
    "long_running_services": _Kind(Service, lambda s: s.name),
    "service_types": _Kind(ServiceType, lambda s: s.key),
    "payment_gateways": _Kind(PaymentGateway, lambda g: g.key),
    "provisioning_backends": _Kind(ProvisioningBackend, lambda b: b.key),
    "notification_channels": _Kind(NotificationChannel, lambda c: c.key),
}


class ContributionError(Exception):
    pass


@dataclass
class Contributions:
    """Validated contributions: ``registry[hook][key] = (plugin, item)``."""

    registry: dict[str, dict[Any, tuple[str, Any]]] = field(
        default_factory=lambda: {hook: {} for hook in KINDS})
    #: blueprint name -> the plugin that registered it
    blueprint_owners: dict[str, str] = field(default_factory=dict)

    def items(self, hook: str) -> list:
        return [item for _, item in self.registry[hook].values()]

    def owned(self, hook: str) -> list[tuple[str, Any]]:
        return list(self.registry[hook].values())

    def get(self, hook: str, key: Any):
        entry = self.registry[hook].get(key)
        return entry[1] if entry else None

    def drop_plugin(self, plugin: str) -> None:
        for entries in self.registry.values():
            for key in [k for k, (owner, _) in entries.items() if owner == plugin]:
                del entries[key]

    # typed accessors ------------------------------------------------------------------
    @property
    def permissions(self) -> list[Permission]:
        return self.items("permissions")

    @property
    def menu_items(self) -> list[MenuItem]:
        return sorted(self.items("menu_items"), key=lambda m: (m.section, m.order, m.label))

    @property
    def account_panels(self) -> list[AccountPanel]:
        return sorted(self.items("account_panels"), key=lambda p: (p.order, p.title))

    @property
    def periodic_jobs(self) -> list[PeriodicJob]:
        return self.items("periodic_jobs")

    @property
    def scheduled_action_types(self) -> dict[str, ScheduledActionType]:
        return {t.key: t for t in self.items("scheduled_action_types")}

    @property
    def long_running_services(self) -> dict[str, Service]:
        return {s.name: s for s in self.items("long_running_services")}

    @property
    def service_types(self) -> dict[str, ServiceType]:
        return {s.key: s for s in self.items("service_types")}

    @property
    def payment_gateways(self) -> dict[str, PaymentGateway]:
        return {g.key: g for g in self.items("payment_gateways")}

    @property
    def provisioning_backends(self) -> dict[str, ProvisioningBackend]:
        return {b.key: b for b in self.items("provisioning_backends")}

    @property
    def notification_channels(self) -> dict[str, NotificationChannel]:
        return {c.key: c for c in self.items("notification_channels")}

    @property
    def graphql(self) -> list[tuple[str, GraphQLContribution]]:
        return self.owned("graphql_schema")


def _validated(hook: str, plugin: str, answer: Any,
               contributions: Contributions) -> list[tuple[Any, Any]]:
    """``[(key, item)]`` from one plugin's answer; raises on a wrong type or a taken key."""
    kind = KINDS[hook]
    if answer is None:
        return []
    items = list(answer) if kind.many else [answer]
    out = []
    for item in items:
        if not isinstance(item, kind.type):
            raise ContributionError(f"{hook} returned {type(item).__name__}, "
                                    f"expected {kind.type.__name__}")
        key = kind.key(item)
        taken = contributions.registry[hook].get(key)
        if taken or any(k == key for k, _ in out):
            owner = taken[0] if taken else plugin
            raise ContributionError(f"{hook}: '{key}' is already registered by '{owner}'")
        out.append((key, item))
    return out


def collect(plugins: Plugins, app) -> Contributions:
    """Run every contribution hook for each enabled plugin, in load order.

    A plugin's contributions are staged and used only if all its hooks succeed; on failure
    it is marked failed (its dependents, which load later, with it) and the next one runs.
    In strict mode the failure raises :class:`~backhaul.core.plugins.PluginLoadError`.
    """
    contributions = Contributions()
    plugins.fail_listeners.append(contributions.drop_plugin)
    for name in list(plugins.order):
        if not plugins.is_enabled(name):
            continue  # failed as a dependent of an earlier failure
        hook = ""
        try:
            staged = []
            for hook in KINDS:
                for plugin_name, answer in _call_one(plugins, hook, name):
                    staged.append((hook, _validated(hook, plugin_name, answer,
                                                    contributions)))
            blueprints = []
            hook = "register_blueprints"
            for _, answer in _call_one(plugins, hook, name, app=app):
                for bp in answer or ():
                    if not isinstance(bp, Blueprint):
                        raise ContributionError("register_blueprints returned "
                                                f"{type(bp).__name__}, expected Blueprint")
                    blueprints.append(bp)
        except Exception as exc:
            plugins.fail(name, f"contribution failed in hook '{hook}': "
                               f"{type(exc).__name__}: {exc}")
            continue
        for hook, entries in staged:
            for key, item in entries:
                contributions.registry[hook][key] = (name, item)
        try:
            for bp in blueprints:
                app.register_blueprint(bp)
                contributions.blueprint_owners[bp.name] = name
        except Exception as exc:
            plugins.fail(name, f"blueprint failed: {type(exc).__name__}: {exc}")
    _guard_failed_blueprints(app, plugins, contributions)
    return contributions


def run_startup(plugins: Plugins, app) -> None:
    """Call each enabled plugin's ``startup(app)`` once, in call order, in an app context.

    One that raises is marked failed (reason naming the hook) with its dependents; in strict
    mode that raises :class:`~backhaul.core.plugins.PluginLoadError`.
    """
    with app.app_context():
        for name in plugins.call_order("startup"):
            if not plugins.is_enabled(name):
                continue
            try:
                for _ in _call_one(plugins, "startup", name, app=app):
                    pass
            except Exception as exc:
                plugins.fail(name, f"startup failed in hook 'startup': "
                                   f"{type(exc).__name__}: {exc}")


def _guard_failed_blueprints(app, plugins: Plugins, contributions: Contributions) -> None:
    """Flask cannot unregister a blueprint: the pages of a plugin that failed after its
    blueprints were registered (a later start-up phase refused it) answer 503 instead."""
    @app.before_request
    def _refuse_failed_plugin_pages():
        owner = contributions.blueprint_owners.get(request.blueprint or "")
        if owner is not None and not plugins.is_enabled(owner):
            abort(503, description=f"The plugin '{owner}' failed to start: "
                                   f"{plugins.records[owner].reason}")


def _call_one(plugins: Plugins, hook: str, name: str, **kwargs):
    """Call one plugin's implementation of ``hook``, letting its exception propagate."""
    for plugin_name, impl in plugins._impls(hook, [name]):
        yield plugin_name, plugins._invoke(hook, plugin_name, impl, kwargs)
