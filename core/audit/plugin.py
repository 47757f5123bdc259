"""The core's audit feature, contributed through public hooks like any plugin.

Importing it installs the recorder on the app's session class, so every create, update and
delete flushed through ``db.session`` is chained into ``audit_entry`` on commit.
"""
from __future__ import annotations

import click

from backhaul.sdk import MenuItem, Permission, PluginMeta, hookimpl

from . import recorder

META = PluginMeta(name="audit", description="Tamper-evident audit trail of changes and events",
                  essential=True)

recorder.install()


@hookimpl
def permissions():
    return [Permission("audit.log.view", "Read the audit trail (UI and GraphQL)")]


@hookimpl
def menu_items():
    return [MenuItem("Audit log", "audit.log", "audit.log.view", section="Admin", order=80)]


@hookimpl
def register_blueprints(app):
    from .views import create_blueprint

    return [create_blueprint()]


@hookimpl
def graphql_schema():
    from .schema import contribution

    return contribution()


@hookimpl
def cli_commands():
    return [audit_group]


@click.group("audit")
def audit_group():
    """The audit trail."""


@audit_group.command("verify")
@click.option("--batch-size", default=1000, show_default=True, type=int)
def verify_cmd(batch_size):
    """Walk the hash chain; report the first broken entry (exit status 1)."""
    from flask import has_app_context

    from backhaul.core.db import db

    from . import chain

    def check():
        return chain.verify(db.session, batch_size=batch_size)

    if has_app_context():
        result = check()
    else:
        from backhaul.core.cli import _State

        app = click.get_current_context().ensure_object(_State).app
        with app.app_context():
            result = check()
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} entries verified")
        return
    click.echo(f"audit chain BROKEN at entry {result.broken_seq}: {result.reason} "
               f"({result.checked} entries before it verified)", err=True)
    click.get_current_context().exit(1)
