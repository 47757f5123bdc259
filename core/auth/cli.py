"""``backhaul users ...``: staff accounts from the command line (contributed by the auth plugin).

``ensure-admin`` is what ``make run`` calls: on the first run (no users at all) it creates
``admin@backhaul.local`` with a random password, keeps that password in
``<instance>/initial_admin_password`` (mode 0600) and prints the login; later runs print the
same login again and change nothing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click
import sqlalchemy as sa

from ..db import db
from . import passwords, sessions, totp
from .login import find_user
from .models import Role, User
from .roles import ensure_builtin_roles
from .users import UserError, create_user, set_password

ADMIN_EMAIL = "admin@backhaul.local"
PASSWORD_FILE = "initial_admin_password"


def _app():
    from ..cli import _State

    ctx = click.get_current_context()
    state = ctx.find_object(_State) or ctx.ensure_object(_State)
    return state.app


def _min_length(app) -> int:
    return int(app.config.get("AUTH_PASSWORD_MIN_LENGTH", passwords.DEFAULT_MIN_LENGTH))


def _user_or_fail(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}: see `backhaul users list`")
    return user


def _write_secret_file(path: Path, text: str) -> None:
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


@click.group()
def users():
    """Staff users."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", help="Omit to be prompted (keeps it out of the shell history).")
@click.option("--role", "role_names", multiple=True,
              help="Role name, repeatable (e.g. --role Administrator).")
def create(email, name, password, role_names):
    """Create a staff user."""
    app = _app()
    with app.app_context():
        ensure_builtin_roles()
        chosen = []
        for role_name in role_names:
            role = db.session.scalar(sa.select(Role).where(Role.name == role_name))
            if role is None:
                known = ", ".join(db.session.scalars(sa.select(Role.name).order_by(Role.name)))
                raise click.ClickException(f"no role named '{role_name}'; roles: {known}")
            chosen.append(role)
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(email, name, password, chosen, _min_length(app))
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"created user {user.email} (id {user.id})"
                   + (f" with roles {', '.join(r.name for r in chosen)}" if chosen else ""))


@users.command("ensure-admin")
def ensure_admin():
    """First run: create the initial administrator; later runs: print its login again."""
    app = _app()
    path = Path(app.instance_path) / PASSWORD_FILE
    with app.app_context():
        role = ensure_builtin_roles()
        user = find_user(ADMIN_EMAIL)
        if user is None:
            if db.session.scalar(sa.select(sa.func.count(User.id))):
                db.session.commit()
                click.echo("staff users exist already; no initial administrator created "
                           "(see `backhaul users list`)")
                return
            password = passwords.generate_password()
            user = create_user(ADMIN_EMAIL, "Administrator", password, [role], _min_length(app))
            _write_secret_file(path, password)
            from .staff import require_password_change

            require_password_change(user)  # the first sign-in must replace it
            db.session.commit()
            click.echo(f"created the initial administrator; its password is kept in {path}")
        else:
            db.session.commit()
        stored = path.read_text().strip() if path.exists() else None
        if stored and passwords.verify_password(user.password_hash, stored):
            click.echo(f"Staff login: {ADMIN_EMAIL}  password: {stored}")
        else:
            click.echo(f"Staff login: {ADMIN_EMAIL} (its password was changed after the first "
                       "run; reset it with `backhaul users set-password`)")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_users(as_json):
    """Every staff user with roles, two-factor and lock-out state."""
    with _app().app_context():
        rows = [{"id": u.id, "email": u.email, "name": u.name, "active": u.is_active,
                 "roles": [r.name for r in u.roles], "two_factor": u.totp_enabled,
                 "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                 "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
                for u in db.session.scalars(sa.select(User).order_by(User.email))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no staff users (create one with `backhaul users create`)")
    for row in rows:
        state = "active" if row["active"] else "inactive"
        click.echo(f"{row['id']:>4}  {row['email']:<32} {state:<8} "
                   f"{', '.join(row['roles']) or '-'}{'  2FA' if row['two_factor'] else ''}")


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password", help="Omit to be prompted.")
def set_password_cmd(email, password):
    """Set a user's password (and sign them out everywhere)."""
    app = _app()
    with app.app_context():
        user = _user_or_fail(email)
        if password is None:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        try:
            set_password(user, password, _min_length(app))
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
    click.echo(f"password of {email} changed; their sessions were signed out")


@users.command("reset-2fa")
@click.option("--email", required=True)
def reset_2fa(email):
    """Turn off a user's two-factor sign-in (lost phone, changed secret key)."""
    with _app().app_context():
        user = _user_or_fail(email)
        totp.disable(user)
        sessions.revoke_all(user, "2fa reset")
        db.session.commit()
    click.echo(f"two-factor sign-in of {email} is off; they can enrol again from their profile")


@click.group()
def tokens():
    """API tokens (for integrations: send as 'Authorization: Bearer ...')."""


@tokens.command("create")
@click.option("--email", required=True, help="The staff user the token acts as.")
@click.option("--name", required=True, help="What uses it (e.g. 'accounting export').")
@click.option("--scope", type=click.Choice(["read", "custom", "full"]), default="read",
              show_default=True, help="read: queries only; full: everything the user may; "
                                      "custom: the --permission names only.")
@click.option("--permission", "permission_names", multiple=True,
              help="With --scope custom; repeatable (e.g. --permission billing.invoice.view).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Expiry date (YYYY-MM-DD); omit for none.")
@click.option("--network", "networks", multiple=True,
              help="Only from this CIDR network; repeatable (e.g. 192.0.2.0/24).")
def create_token(email, name, scope, permission_names, expires, networks):
    """Create an API token and print it (once: it is stored hashed)."""
    from datetime import UTC

    from .identity import known_permissions
    from .tokens import TokenError, create

    app = _app()
    with app.app_context():
        user = _user_or_fail(email)
        try:
            plaintext, row = create(
                user, name, scope, permission_names, known_permissions(app),
                expires_at=expires.replace(tzinfo=UTC) if expires else None,
                networks=list(networks) or None)
        except TokenError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"created token '{row.name}' ({row.scope}) for {user.email}; it is shown "
                   "only now:")
        click.echo(plaintext)


@tokens.command("list")
def list_tokens():
    """Every API token: id, owner, name, scope, state (never the secret)."""
    from .tokens import status, tokens_of

    with _app().app_context():
        for row in tokens_of():
            click.echo(f"{row.id:>4}  {row.user.email:<32} {row.name:<28} {row.scope:<7} "
                       f"{status(row)}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id):
    """Revoke a token by id (see `backhaul tokens list`)."""
    from .models import ApiToken
    from .tokens import revoke

    with _app().app_context():
        row = db.session.get(ApiToken, token_id)
        if row is None:
            raise click.ClickException(f"no token with id {token_id}")
        revoke(row)
        db.session.commit()
    click.echo(f"token {token_id} revoked")
