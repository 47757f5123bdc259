"""The ``backhaul`` command line. Every command builds the app from the same configuration.

Plugins add commands through the ``cli_commands`` hook; those run inside an app context.
Errors a user can fix (configuration, a failing plugin in strict mode, an unreachable
database) end in one line saying what to do, never a traceback or a password.
"""
from __future__ import annotations

import json
import sys

import click
import sqlalchemy.exc

from .config import ConfigError, redact_url
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

    def _plugin_commands(self, ctx) -> dict[str, click.Command]:
        state = ctx.ensure_object(_State)
        cached = getattr(state, "plugin_commands", None)
        if cached is not None:
            return cached
        try:
            app = state.app
        except click.ClickException as exc:
            state.app_error = exc  # shown if the command asked for is not a core one
            return {}
        commands: dict[str, click.Command] = {}
        owners: dict[str, str] = {}
        for plugin, command in app.extensions["backhaul.plugins"].collect("cli_commands"):
            if not isinstance(command, click.Command):
                click.echo(f"plugin '{plugin}': cli_commands returned "
                           f"{type(command).__name__}, expected a click command", err=True)
                continue
            if command.name in self.commands or command.name in commands:
                owner = owners.get(command.name, "core")
                click.echo(f"plugin '{plugin}': command '{command.name}' clashes with "
                           f"{owner}'s and is ignored: rename it", err=True)
                continue
            commands[command.name] = command
            owners[command.name] = f"plugin '{plugin}'"
        state.plugin_commands = commands
        return commands

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)
        error = getattr(ctx.ensure_object(_State), "app_error", None)
        if command is None and error is not None:
            raise error  # "no such command" would hide why plugin commands are missing
        return command

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except sqlalchemy.exc.OperationalError as exc:
            state = ctx.ensure_object(_State)
            url = (state._app.config["DATABASE_URL"] if state._app is not None
                   else _configured_database_url())
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise click.ClickException(
                f"cannot use the database {redact_url(url)}: {reason}. Check "
                "BACKHAUL_DATABASE_URL and that the server is running.") from None


def _configured_database_url() -> str | None:
    from .config import load_config

    try:
        return load_config()["DATABASE_URL"]
    except ConfigError:
        return None


@click.group(cls=BackhaulGroup)
@click.pass_context
def main(ctx):
    """Backhaul: operations platform for internet service providers."""
    if ctx.invoked_subcommand and ctx.invoked_subcommand not in main.commands:
        state = ctx.ensure_object(_State)
        ctx.with_resource(state.app.app_context())  # a plugin's command runs inside the app


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


@main.command("serve")
@click.argument("name")
@click.option("--shard", default=None, metavar="I/N",
              help="Run shard I of N (e.g. 2/4); the service splits its work by it.")
@pass_state
def serve_cmd(state, name, shard):
    """Run the long-running service NAME until SIGTERM (graceful stop, heartbeats)."""
    from .services import parse_shard, serve

    app = state.app
    services = app.extensions["backhaul.contributions"].long_running_services
    if name not in services:
        known = ", ".join(sorted(services)) or "none (no enabled plugin contributes one)"
        raise click.ClickException(f"no service named '{name}'. Services: {known}.")
    try:
        part = parse_shard(shard)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(serve(app, services[name], part))


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


@main.command("hooks")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@click.option("--core", "core_only", is_flag=True,
              help="Only the core's hooks (what docs/hooks.md holds), not plugin-published ones.")
@pass_state
def hooks_cmd(state, fmt, core_only):
    """The hook reference: every hook's exact signature and documentation."""
    from . import hookdocs

    specs = hookdocs.collect_specs(None if core_only else state.app.extensions[
        "backhaul.plugins"])
    if fmt == "json":
        click.echo(json.dumps([s.as_dict() for s in specs], indent=2))
    elif fmt == "markdown":
        click.echo(hookdocs.markdown(specs), nl=False)
    else:
        for spec in specs:
            click.echo(f"{spec.signature}  [{spec.group}]")


# ------------------------------------------------------------------------------- demo
@main.group()
def demo():
    """Demo data."""


@demo.command("load")
@pass_state
def demo_load(state):
    """Load demo data (idempotent: running it twice changes nothing)."""
    from .demo import DemoDataError, load

    with _in_app(state):
        try:
            load(state.app)
        except DemoDataError as exc:
            raise click.ClickException(str(exc)) from None
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
        rows = [{"id": j.id, "func": j.func, "queue": j.queue, "key": j.key,
                 "attempts": j.attempts, "max_attempts": j.max_attempts, "error": j.last_error,
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
    """Put failed jobs back in the queue (dispatched at once)."""
    from .jobs import retry

    if bool(ids) == retry_all:
        raise click.UsageError("give job ids, or --all")
    with _in_app(state):
        count = retry(None if retry_all else list(ids))
    click.echo(f"{count} job(s) queued again")


def run_main() -> None:  # pragma: no cover - console entry
    sys.exit(main())
