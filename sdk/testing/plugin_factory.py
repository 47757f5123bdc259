"""Build a throw-away plugin object from plain functions (for in-test plugins)."""
from __future__ import annotations

import types

from backhaul.sdk.markers import PROJECT, hookimpl
from backhaul.sdk.plugin import PluginMeta


def make_plugin(name: str, meta: PluginMeta | None = None, **hooks) -> types.SimpleNamespace:
    """A plugin named ``name`` implementing each keyword as a hook.

    ``make_plugin("demo", permissions=lambda: [Permission("demo.x.view", "...")])``. A hook
    function may take any subset of the spec's arguments, by the spec's names.
    A function already marked (``hookimpl(tryfirst=True)(func)``) keeps its options.
    """
    ns = types.SimpleNamespace(META=meta or PluginMeta(name=name, description=f"in-test {name}"))
    for hook, func in hooks.items():
        impl = _named(func, hook)
        setattr(ns, hook, impl if hasattr(impl, f"{PROJECT}_impl") else hookimpl(impl))
    return ns


def _named(func, hook):
    """pluggy reads argument names from the function: keep lambdas but name them."""
    func.__name__ = hook
    return func
