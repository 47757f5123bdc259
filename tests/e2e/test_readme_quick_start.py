"""The README's integrator quick start, run as written: its token command through the CLI,
then every ``curl`` command of the section with the real curl against a live server. The
README cannot drift from the API without this test failing."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from backhaul.sdk.testing import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> list[str]:
    """The shell commands of the section, continuation lines joined."""
    text = README.read_text()
    section = text.split("## Integrator quick start", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip():
                commands.append(command.strip())
    return commands


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["billing"])
    with application.app_context():
        yield application


def test_the_quick_start_runs_as_written(app, make_live_server, staff_user):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    commands = quick_start()
    token_command, export, *calls = commands
    assert token_command.startswith("backhaul tokens create ")
    assert export.startswith("export BACKHAUL=")
    assert len(calls) == 4 and all(c.startswith("curl ") for c in calls), calls

    # data for the queries to find: two accounts, one invoice
    from backhaul.plugins.billing import catalogue, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.sdk import db
    from backhaul.sdk.accounts import create_account

    fiber = catalogue.create_service("Fiber 100", "recurring", "50.00", currency="USD")
    first = create_account(name="Flat 1, Maple Court")
    create_account(name="Flat 2, Maple Court")
    db.session.commit()
    subs.subscribe(first.id, service=fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))

    email = shlex.split(token_command)[shlex.split(token_command).index("--email") + 1]
    staff_user(["accounts.account.view", "accounts.account.edit", "billing.invoice.view"],
               email=email, name="Integrator")
    result = run_cli(app, *shlex.split(token_command)[1:])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    live = make_live_server(app)
    env = {**os.environ, "BACKHAUL": live.base_url, "TOKEN": token}

    answers = []
    for command in calls:
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, (command, done.stderr)
        answer = json.loads(done.stdout)
        assert "errors" not in answer, (command, answer)
        answers.append(answer["data"])

    viewer, accounts, invoices, created = answers
    assert viewer["viewer"]["email"] == email and viewer["viewer"]["kind"] == "token"
    assert viewer["viewer"]["readOnly"] is False
    assert "accounts.account.edit" in viewer["viewer"]["permissions"]
    assert accounts["accounts"]["totalCount"] == 2
    assert [e["node"]["name"] for e in accounts["accounts"]["edges"]] == [
        "Flat 1, Maple Court", "Flat 2, Maple Court"]
    [invoice] = invoices["billingInvoices"]["edges"]
    assert invoice["node"]["total"] == {"amount": 5000, "currency": "USD",
                                        "formatted": "50.00 USD"}
    payload = created["createAccount"]
    assert payload["ok"] is True and payload["errors"] == []
    assert payload["account"]["name"] == "Flat 9, Maple Court"
    from backhaul.sdk.accounts import get_account

    db.session.rollback()
    assert get_account(int(payload["account"]["id"])).name == "Flat 9, Maple Court"
