"""The plugin's shape: migrations match the models, only the SDK and declared plugins' APIs
are imported, demo data loads twice without duplicates, and ``backhaul mail-in`` runs as the
operator would run it — a real subprocess that receives mail and stops on SIGTERM."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from tickets_helpers import SUPPORT, mail, send, tickets, wait_for

from backhaul.sdk import db
from backhaul.sdk.testing import app_environ, free_port, run_cli


def test_migrations_match_models(app):
    from backhaul.sdk.testing.migrations import migration_problems

    assert migration_problems(app, "tickets") == []


def test_only_the_sdk_and_declared_apis_are_imported():
    import backhaul.plugins.tickets as tickets_plugin
    from backhaul.sdk.testing.boundaries import plugin_import_offences

    assert plugin_import_offences(tickets_plugin) == []


def test_demo_data_is_idempotent(app):
    from backhaul.plugins.tickets.demo import load_demo
    from backhaul.plugins.tickets.models import CannedReply, InboundAddress, TicketMessage
    from backhaul.sdk.accounts import create_account

    for n in (1, 2):
        create_account(name=f"Demo {n}", number=f"DEMO-{n:04d}")
    db.session.commit()
    load_demo()
    load_demo()
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
              (InboundAddress, CannedReply, TicketMessage)]
    assert counts == [2, 2, 3] and len(tickets()) == 2


def test_mail_in_is_a_cli_command(app):
    result = run_cli(app, "mail-in", "--help")
    assert result.exit_code == 0 and "--port" in result.output


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_backhaul_mail_in_subprocess_receives_mail_and_stops_on_sigterm(app, desk):
    port = free_port()
    db.session.commit()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("backhaul")), "mail-in",
                             "--port", str(port)], env=app_environ(app),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _listening(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listening(port), proc.stdout.read() if proc.poll() is not None else "no port"
        send(port, mail("Sent to the real command", to=SUPPORT))
        [ticket] = wait_for(tickets)
        assert ticket.subject == "Sent to the real command"
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert f"listening on 127.0.0.1:{port}" in output and "stopped (1 accepted)" in output


def test_the_published_api(app, desk, tenant):
    import pytest
    from marshmallow import ValidationError

    from backhaul.plugins.tickets import api
    from backhaul.plugins.tickets import desk as tickets_desk

    account, contact = tenant
    ticket = tickets_desk.open_ticket({"subject": "Needs a visit", "groupId": desk[0].id,
                                       "accountId": account.id})
    db.session.commit()
    summary = api.get_ticket(ticket.id)
    assert (summary.token, summary.group, summary.contact_id) == (ticket.token, "Support",
                                                                  contact.id)
    assert api.get_ticket(999_999) is None
    assert [t.id for t in api.tickets_for_account(account.id, open_only=True)] == [ticket.id]
    api.add_note(ticket.id, "Visit booked for Tuesday 9:00", "scheduling")
    db.session.commit()
    assert ticket.messages[-1].author == "scheduling" and ticket.messages[-1].kind == "note"
    with pytest.raises(LookupError):
        api.add_note(999_999, "x", "scheduling")
    with pytest.raises(ValidationError):
        api.add_note(ticket.id, " ", "scheduling")
