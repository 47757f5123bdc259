"""The pluggy markers of Backhaul's hooks, defined once for the core, the SDK and plugins.

``hookimpl`` marks an implementation (``@hookimpl``, ``@hookimpl(tryfirst=True)``,
``@hookimpl(trylast=True)``, ``@hookimpl(optionalhook=True)``); ``hookspec`` marks a
specification (the core's in ``core/hookspecs.py``, a plugin's in its ``hookspecs.py``).
Wrappers (``wrapper=True`` / ``hookwrapper=True``) are refused: see ``backhaul.sdk.hookimpl``.
"""
from __future__ import annotations

import pluggy

#: pluggy's project name: every marker and the plugin manager use it
PROJECT = "backhaul"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]
