"""``create_app()``: configuration -> database -> plugins -> contributions -> web, API, UI."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from . import secrets
from .config import ensure_secret_key, load_config
from .contributions import collect, run_startup
from .db import configure_sqlite, db
from .jobs import JobBackend
from .plugins import Plugins

log = logging.getLogger("backhaul")


def create_app(config: dict | None = None) -> Flask:
    """Build a Backhaul app. ``config`` overrides the environment and the TOML file.

    Raises :class:`~backhaul.core.config.ConfigError` for invalid configuration and
    :class:`~backhaul.core.plugins.PluginLoadError` for a failing plugin in strict mode.
    """
    settings = load_config(config)
    Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    app = Flask("backhaul", instance_path=settings["INSTANCE_PATH"],
                root_path=str(Path(__file__).parent),
                template_folder=str(Path(__file__).parent / "ui" / "templates"),
                static_folder=str(Path(__file__).parent / "ui" / "static"),
                static_url_path="/static")
    app.config.update(settings)
    app.config["SECRET_KEY"] = ensure_secret_key(settings)
    secrets.init_app(app, settings)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_CONTENT_LENGTH"]

    if settings["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    if settings["DATABASE_URL"].startswith("sqlite"):
        with app.app_context():
            configure_sqlite(db.engine)

    plugins = Plugins(settings).load()
    plugins.app = app
    app.extensions["backhaul.plugins"] = plugins
    app.extensions["backhaul.jobs"] = JobBackend(settings)

    from . import auth, graphql, ui

    auth.init_app(app)
    app.extensions["backhaul.contributions"] = collect(plugins, app)
    graphql.init_app(app)
    ui.init_app(app)
    run_startup(plugins, app)
    return app
