"""``backhaul example ...``: the example plugin's commands (contributed by ``cli_commands``).

The core runs a plugin's commands inside an app context, so they use the database directly.
"""
from __future__ import annotations

import click

from backhaul.sdk import db

from .greetings import greet


def make_group() -> click.Group:
    @click.group("example")
    def group():
        """The example plugin."""

    @group.command("greet")
    @click.argument("name")
    def greet_command(name: str):
        """Record a greeting for NAME (delivered by a job)."""
        greeting = greet(name)
        db.session.commit()
        click.echo(greeting.message)

    return group
