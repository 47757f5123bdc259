"""``backhaul secrets``: make a key, re-encrypt every stored secret with the newest key."""
from __future__ import annotations

import click
from flask import current_app

from .audit.recorder import record
from .db import db
from .instances import rotate_all
from .secrets import SecretsUnreadable, new_key


@click.group("secrets")
def secrets_group():
    """Keys for secrets at rest (BACKHAUL_SECRETS_KEYS)."""


@secrets_group.command("new-key")
def new_key_command():
    """Print a new key. Put it FIRST in BACKHAUL_SECRETS_KEYS, keep the old ones after it."""
    click.echo(new_key())


@secrets_group.command("rotate")
def rotate_command():
    """Re-encrypt every stored secret with the first key of BACKHAUL_SECRETS_KEYS.

    All or nothing: a secret no listed key can read stops the rotation and changes nothing.
    Afterwards the old keys can be removed from the setting.
    """
    with current_app.app_context():
        try:
            counts = rotate_all()
            record("secrets.rotated", "secrets", None, {"rows": counts})
            db.session.commit()
        except SecretsUnreadable as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
    for table, count in sorted(counts.items()):
        click.echo(f"{table}: {count} row(s) re-encrypted")
    click.echo(f"re-encrypted {sum(counts.values())} stored secret(s) with the first key; "
               "the other keys may now be removed from BACKHAUL_SECRETS_KEYS")
