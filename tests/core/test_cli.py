"""The ``backhaul`` command line: core commands, plugin commands, one-line errors."""
from __future__ import annotations

import json

import click
import sqlalchemy as sa
from click.testing import CliRunner

from backhaul.core.cli import _State, main
from backhaul.core.db import db
from backhaul.core.models import JobIntent
from backhaul.sdk.testing import run_cli


def invoke(app, *args):
    """Like ``run_cli``, catching exceptions (for error paths); ``.stderr`` kept apart."""
    state = _State()
    state._app = app
    return CliRunner().invoke(main, list(args), obj=state)


def test_help_lists_core_and_plugin_commands(make_app):
    app = make_app(plugins=["example"])
    result = run_cli(app, "--help")
    for command in ("run", "worker", "scheduler", "serve", "db", "plugins", "jobs", "demo", "hooks",
                    "example"):
        assert f"  {command}" in result.output


def test_plugin_commands_run_inside_the_app(make_app, temp_plugin):
    @click.command("whereami")
    def whereami():
        from flask import current_app

        click.echo(f"inside {current_app.name}, {len(current_app.extensions)} extensions")

    app = make_app(plugins=[], extra_plugins=[temp_plugin("here",
                                                          cli_commands=lambda: [whereami])])
    result = run_cli(app, "whereami")
    assert result.exit_code == 0 and result.output.startswith("inside backhaul")


def test_clashing_and_invalid_plugin_commands_are_reported(make_app, temp_plugin):
    shadow = click.Command("db", callback=lambda: click.echo("shadowed!"))
    twin = click.Command("twin", callback=lambda: click.echo("first twin"))
    twin2 = click.Command("twin", callback=lambda: click.echo("second twin"))
    app = make_app(plugins=[], extra_plugins=[
        temp_plugin("clash", cli_commands=lambda: [shadow, twin, "not a command"]),
        temp_plugin("clash2", cli_commands=lambda: [twin2])])
    result = invoke(app, "twin")
    assert result.stdout.strip() == "first twin"
    assert "plugin 'clash': command 'db' clashes with core's and is ignored" in result.stderr
    assert "plugin 'clash2': command 'twin' clashes with plugin 'clash''s" in result.stderr
    assert "cli_commands returned str, expected a click command" in result.stderr
    assert "shadowed!" not in invoke(app, "db", "--help").output


def test_plugins_list_text_and_json(make_app, temp_plugin):
    def permissions():
        raise RuntimeError("cannot list permissions")

    app = make_app(plugins=["example"], strict_plugins=False,
                   extra_plugins=[temp_plugin("broken", permissions=permissions)])
    text = run_cli(app, "plugins", "list").output
    assert "broken" in text and "failed (contribution failed in hook 'permissions': RuntimeError" in text
    assert "example" in text and "hooks: account_created" in text
    rows = {r["name"]: r for r in json.loads(run_cli(app, "plugins", "list", "--json").output)}
    assert rows["example"]["status"] == "enabled" and rows["example"]["version"] != "?"
    assert rows["example"]["source"] == "entry point" and rows["core"]["source"] == "core"
    assert rows["broken"]["source"] == "in-test"
    assert set(rows["example"]) == {"name", "version", "status", "reason", "description",
                                    "source", "essential", "depends_on", "hooks", "opt_in"}


def test_db_upgrade_reports_the_branches(make_app):
    result = run_cli(make_app(plugins=["example"]), "db", "upgrade")
    assert result.exit_code == 0
    assert result.output.startswith("database is up to date (core") and "example" in \
        result.output


def test_demo_load_failure_names_the_plugin(make_app, temp_plugin):
    def load_demo_data():
        raise ValueError("demo data needs a coffee")

    app = make_app(plugins=[], extra_plugins=[temp_plugin("sleepy",
                                                          load_demo_data=load_demo_data)])
    result = invoke(app, "demo", "load")
    assert result.exit_code == 1
    assert "Error: demo data of plugin 'sleepy' failed: ValueError: demo data needs a coffee" \
        in result.output + result.stderr


def test_worker_without_redis_says_what_to_do(make_app):
    result = invoke(make_app(plugins=[]), "worker", "--burst")
    assert result.exit_code == 1
    assert "BACKHAUL_REDIS_URL is not set" in result.output + result.stderr


def test_scheduler_once_runs_one_pass(make_app):
    app = make_app(plugins=["example"])
    result = run_cli(app, "scheduler", "--once")
    assert result.exit_code == 0
    with app.app_context():
        keys = list(db.session.scalars(sa.select(JobIntent.key)))
    assert any(k.startswith("periodic:example.tidy:") for k in keys)
