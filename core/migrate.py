"""Migrations: one Alembic environment, a labelled branch per plugin (the core has ``core``).

Every installed plugin's ``versions`` folder is on the version path, so revisions of a
disabled plugin still resolve; ``upgrade`` only moves the branches of enabled plugins, and
nothing ever drops a disabled plugin's tables.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app

HERE = Path(__file__).parent / "migrations"


def plugin_version_dirs(app) -> dict[str, Path]:
    """``{branch: versions folder}`` for the core and every installed plugin that has one."""
    plugins = app.extensions["backhaul.plugins"]
    dirs: dict[str, Path] = {"core": HERE / "versions"}
    for name, record in plugins.records.items():
        if record.source == "core" or record.obj is None and record.loader is None:
            continue
        path = _versions_dir(record)
        if path and path.is_dir():
            dirs[name] = path
    return dirs


def _versions_dir(record) -> Path | None:
    meta = record.meta
    if meta is not None and meta.migrations:
        return Path(meta.migrations)
    obj = record.obj
    module_file = getattr(obj, "__file__", None)
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


def upgrade(app=None) -> list[str]:
    """Upgrade the core branch and every enabled plugin's branch to its head."""
    app = app or current_app
    cfg = alembic_config(app)
    script = ScriptDirectory.from_config(cfg)
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    done = []
    for branch in enabled_branches(app):
        if branch in labels:
            command.upgrade(cfg, f"{branch}@head")
            done.append(branch)
    return done
