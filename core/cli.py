"""The ``backhaul`` command line. Every command builds the app from the same configuration."""
from __future__ import annotations

import json
import sys

import click

from .config import ConfigError
from .plugins import PluginLoadError


class _State:
    def __init__(self):
        self._app = None

    @property
    def app(self):
        if self._app is None:
            from .app import create_app

            try:
                self._app = create_app()
            except (ConfigError, PluginLoadError) as exc:
                raise click.ClickException(str(exc)) from None
        return self._app


pass_state = click.make_pass_decorator(_State, ensure=True)


class BackhaulGroup(click.Group):
    """Adds the commands that plugins contribute (``cli_commands`` hook) on demand."""

    def _plugin_commands(self, ctx) -> dict:
        state = ctx.ensure_object(_State)
        try:
            app = state.app
        except click.ClickException:
            return {}
        commands = {}
        for plugin, command in app.extensions["backhaul.plugins"].collect("cli_commands"):
            if command.name in self.commands:
                click.echo(f"plugin '{plugin}': command '{command.name}' clashes with a core "
                           "command and is ignored", err=True)
                continue
            commands[command.name] = command
        return commands

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)

    def invoke(self, ctx):
        return super().invoke(ctx)


@click.group(cls=BackhaulGroup)
def main():
    """Backhaul: operations platform for internet service providers."""


def _in_app(state: _State):
    return state.app.app_context()


# ------------------------------------------------------------------------------- serve
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not run periodic jobs in-process.")
@pass_state
def run(state, host, port, no_scheduler):
    """Serve the staff UI (development server; use gunicorn behind a proxy in production)."""
    from werkzeug.serving import run_simple

    from . import scheduler

    app = state.app
    if not no_scheduler and app.extensions["backhaul.jobs"].redis is None:
        scheduler.start_in_thread(app)
    click.echo(f"Backhaul is serving on http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
@click.option("--queue", "queues", multiple=True, default=["default"], show_default=True)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@pass_state
def worker(state, queues, burst):
    """Run an RQ worker for the given queues."""
    from . import scheduler

    try:
        scheduler.run_worker(state.app, list(queues), burst=burst)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("scheduler")
@click.option("--interval", default=1.0, show_default=True, type=float)
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@pass_state
def scheduler_cmd(state, interval, once):
    """Enqueue periodic jobs and sweep the outbox (several schedulers may run)."""
    from . import scheduler

    scheduler.run(state.app, interval=interval, once=once)


# ------------------------------------------------------------------------------- db
@main.group()
def db():
    """Database migrations."""


@db.command("upgrade")
@pass_state
def db_upgrade(state):
    """Migrate the core and every enabled plugin to the latest schema."""
    from .migrate import upgrade

    with _in_app(state):
        branches = upgrade(state.app)
    click.echo(f"database is up to date ({', '.join(branches)})")


# ------------------------------------------------------------------------------- plugins
@main.group()
def plugins():
    """Installed plugins."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def plugins_list(state, as_json):
    """Name, version, status (and why a plugin failed), hooks implemented."""
    rows = state.app.extensions["backhaul.plugins"].describe()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        status = row["status"] + (f" ({row['reason']})" if row["reason"] else "")
        click.echo(f"{row['name']:<16} {row['version']:<10} {status}")
        if row["hooks"]:
            click.echo(f"{'':<16} hooks: {', '.join(row['hooks'])}")


# ------------------------------------------------------------------------------- demo
@main.group()
def demo():
    """Demo data."""


@demo.command("load")
@pass_state
def demo_load(state):
    """Load demo data (idempotent: running it twice changes nothing)."""
    from .demo import load

    with _in_app(state):
        load(state.app)
    click.echo("demo data loaded")


# ------------------------------------------------------------------------------- jobs
@main.group()
def jobs():
    """Background jobs."""


@jobs.command("failed")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def jobs_failed(state, as_json):
    """List jobs that failed after all their attempts."""
    from .jobs import failed_jobs

    with _in_app(state):
        rows = [{"id": j.id, "func": j.func, "attempts": j.attempts, "error": j.last_error,
                 "finished_at": j.finished_at.isoformat() if j.finished_at else None}
                for j in failed_jobs()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        click.echo(f"{row['id']:>6}  {row['func']}  attempts={row['attempts']}  {row['error']}")


@jobs.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job.")
@pass_state
def jobs_retry(state, ids, retry_all):
    """Put failed jobs back in the queue."""
    from .jobs import retry

    if not ids and not retry_all:
        raise click.UsageError("give job ids, or --all")
    with _in_app(state):
        count = retry(None if retry_all else list(ids))
    click.echo(f"{count} job(s) queued again")


def run_main() -> None:  # pragma: no cover - console entry
    sys.exit(main())
