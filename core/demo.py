"""``backhaul demo load``: the core's demo data, then every plugin's (``load_demo_data``)."""
from __future__ import annotations

import logging

from .db import db

log = logging.getLogger("backhaul.demo")


def load(app) -> None:
    plugins = app.extensions["backhaul.plugins"]

    def report(plugin, exc):
        db.session.rollback()
        raise RuntimeError(f"demo data of plugin '{plugin}' failed: {exc}") from exc

    for plugin in list(plugins.order):
        plugins.call("load_demo_data", plugins=[plugin], on_error=report, app=app)
        db.session.commit()
