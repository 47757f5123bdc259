"""``backhaul demo load``: every enabled plugin's demo data (``load_demo_data``), in load order.

The core's own features are plugins too, so their demo data comes first. Each plugin's data
is committed on its own; a plugin that fails stops the run with its name, because later
plugins' demo data may build on it. Running it twice changes nothing (hooks are idempotent).
"""
from __future__ import annotations

import logging

from .db import db

log = logging.getLogger("backhaul.demo")


class DemoDataError(RuntimeError):
    """A plugin's ``load_demo_data`` raised; the message names the plugin."""


def load(app) -> list[str]:
    """Load every enabled plugin's demo data; returns the plugins that answered."""
    plugins = app.extensions["backhaul.plugins"]
    loaded = []

    def report(plugin: str, exc: BaseException) -> None:
        db.session.rollback()
        raise DemoDataError(f"demo data of plugin '{plugin}' failed: "
                            f"{type(exc).__name__}: {exc}") from exc

    for plugin in list(plugins.order):
        if plugins.call("load_demo_data", plugins=[plugin], on_error=report, app=app):
            loaded.append(plugin)
        db.session.commit()
    return loaded
