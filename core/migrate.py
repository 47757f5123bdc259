"""Migrations: one Alembic environment, a labelled branch per plugin (the core has ``core``).

Every installed plugin's ``versions`` folder is on the version path, so revisions of a
disabled plugin still resolve; ``upgrade`` only moves the branches of enabled plugins, and
nothing ever drops a disabled plugin's tables.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app

HERE = Path(__file__).parent / "migrations"


def plugin_version_dirs(app) -> dict[str, Path]:
    """``{branch: versions folder}`` for the core and every installed plugin that has one.

    Disabled plugins are included (found without importing them): their revisions may be
    recorded in the database, and Alembic must be able to resolve them.
    """
    plugins = app.extensions["backhaul.plugins"]
    dirs: dict[str, Path] = {"core": HERE / "versions"}
    for name, record in plugins.records.items():
        if record.source == "core":
            continue
        path = _versions_dir(record)
        if path and path.is_dir():
            dirs[name] = path
    return dirs


def _versions_dir(record) -> Path | None:
    if record.meta is not None and record.meta.migrations:
        return Path(record.meta.migrations)
    module_file = getattr(record.obj, "__file__", None)
    if not module_file and record.module:
        try:
            spec = importlib.util.find_spec(record.module)
        except (ImportError, ValueError):
            spec = None
        module_file = spec.origin if spec is not None else None
    if not module_file:
        return None
    return Path(module_file).parent / "migrations" / "versions"


def alembic_config(app=None) -> Config:
    app = app or current_app
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    dirs = plugin_version_dirs(app)
    cfg.set_main_option("version_locations", " ".join(str(d) for d in dirs.values()))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["app"] = app
    return cfg


def enabled_branches(app=None) -> list[str]:
    app = app or current_app
    plugins = app.extensions["backhaul.plugins"]
    dirs = plugin_version_dirs(app)
    return [b for b in dirs if b == "core" or plugins.is_enabled(b)]


def upgrade(app=None, branches: list[str] | None = None) -> list[str]:
    """Upgrade the core branch and every enabled plugin's branch to its head.

    ``branches`` names the branches explicitly instead (the test kit migrates every installed
    plugin's branch, enabled or not). Nothing is ever downgraded or dropped.
    """
    app = app or current_app
    cfg = alembic_config(app)
    script = ScriptDirectory.from_config(cfg)
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    done = []
    for branch in branches if branches is not None else enabled_branches(app):
        if branch in labels:
            command.upgrade(cfg, f"{branch}@head")
            done.append(branch)
    return done


def branch_labels(app=None) -> list[str]:
    """Every labelled branch on the version path: the core's and each installed plugin's."""
    script = ScriptDirectory.from_config(alembic_config(app or current_app))
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    return sorted(labels, key=lambda b: (b != "core", b))
