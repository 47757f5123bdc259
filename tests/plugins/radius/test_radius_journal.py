"""The accounting journal: Accounting-Requests are answered once on local disk, and what a
crashed process answered but never committed is applied by the next one — exactly once in
effect, however often a segment is replayed."""
from __future__ import annotations

import os
import shutil
import signal
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from radius_helpers import NAS_SECRET, RadiusProcess, eventually, make_subscriber

from backhaul.sdk import db
from backhaul.sdk.testing import free_port
from backhaul.sdk.testing.pytest_plugin import peer_missing
from backhaul.sdk.testing.radius import radclient


def _items(device_id, sub_id, account_id, t0):
    from backhaul.plugins.radius.accounting import (
        ACCOUNTING_ON,
        INTERIM,
        START,
        Item,
        Update,
    )

    def item(status, session, minutes, inp=0, out=0):
        return Item(device_id, Update(status, session, "tenant", t0 + timedelta(minutes=minutes),
                                      input_octets=inp, output_octets=out),
                    sub_id, account_id)

    return [item(START, "S-1", 0), item(INTERIM, "S-1", 1, 1000, 2000),
            item(ACCOUNTING_ON, "", 2),  # the NAS rebooted: S-1 is over
            item(START, "S-2", 3), item(INTERIM, "S-2", 4, 500, 700),
            item(INTERIM, "S-2", 4, 500, 700),  # retransmitted
            item(INTERIM, "S-2", 3, 400, 600)]  # an older one, late


def _sessions():
    from backhaul.plugins.radius.models import Session

    db.session.expire_all()
    return {s.acct_session_id: (s.input_octets, s.output_octets, s.stopped_at is not None)
            for s in db.session.scalars(sa.select(Session))}


def test_a_crashed_journal_is_replayed_and_replaying_it_again_adds_nothing(app, tmp_path):
    from backhaul.plugins.radius.journal import SUFFIX, Journal, orphans
    from backhaul.plugins.radius.server import replay_orphans

    account, sub, device = make_subscriber(app)
    folder = tmp_path / "journal"
    journal = Journal(folder)
    items = _items(device.id, sub.id, account.id, datetime.now(UTC) - timedelta(minutes=30))
    journal.append(items[:3])
    journal.append(items[3:])
    assert list(orphans(folder)) == [], "a live process's segment is never replayed"
    assert journal.close() == len(items), "nothing was applied: all of it stays"
    [segment] = folder.glob(f"*{SUFFIX}")
    kept = tmp_path / "copy"
    shutil.copy(segment, kept)

    assert replay_orphans(folder) == len(items)
    expected = {"S-1": (1000, 2000, True), "S-2": (500, 700, False)}
    assert _sessions() == expected
    assert list(folder.glob(f"*{SUFFIX}")) == [], "a replayed segment is deleted"

    # the same segment again (a crash after the commit, before the delete), with the torn
    # half line a crash mid-write leaves: the Accounting-On in it must not end S-2, which
    # began after it, and no total grows
    with open(kept, "ab") as f:
        f.write(b'[1,3,"S-2","tenant",')
    shutil.copy(kept, segment)
    assert replay_orphans(folder) == len(items)
    assert _sessions() == expected


def test_accounting_answered_while_the_database_is_locked_survives_a_kill(app, tmp_path):
    """The table is locked, so nothing can be committed; the server still answers (the
    updates are on disk), is killed with SIGKILL, and the next server process applies
    what the first one answered."""
    from backhaul.plugins.radius.models import Session

    if shutil.which("radclient") is None:
        peer_missing("radclient (freeradius-utils)")
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LOCK TABLE is PostgreSQL's")
    _, sub, _ = make_subscriber(app)
    user, folder = f"pppoe{sub.id}", tmp_path / "journal"
    blocker = db.engine.connect()
    blocker.exec_driver_sql("BEGIN")
    blocker.exec_driver_sql("LOCK TABLE radius_session IN ACCESS EXCLUSIVE MODE")
    try:
        first = RadiusProcess(app, free_port(), free_port(), journal_dir=str(folder)).start()
        target = f"127.0.0.1:{first.acct_port}"
        for status, inp, out in (("Start", 0, 0), ("Interim-Update", 4000, 9000)):
            code, text = radclient(target, "acct", NAS_SECRET, (
                f'User-Name = "{user}"\nAcct-Status-Type = {status}\n'
                f'Acct-Session-Id = "J-1"\nAcct-Input-Octets = {inp}\n'
                f"Acct-Output-Octets = {out}\n"))
            assert code == 0 and "Accounting-Response" in text, text
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        first.log.close()
    finally:
        blocker.rollback()
        blocker.close()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 0, \
        "answered, but nothing could be committed before the kill"
    with RadiusProcess(app, free_port(), free_port(), journal_dir=str(folder)):

        def session():
            row = db.session.scalar(sa.select(Session).where(Session.acct_session_id == "J-1"))
            return row and (row.subscription_id, row.input_octets, row.output_octets)

        assert eventually(session, (sub.id, 4000, 9000)) == (sub.id, 4000, 9000)


def test_answered_updates_survive_a_clean_stop_during_a_database_outage(app, tmp_path):
    """PostgreSQL refuses connections; the server answers accounting (journaled), is told
    to stop (SIGTERM) while the writer is still retrying, and must leave the journal in
    place: the next server, once the database is back, applies what was answered."""
    from backhaul.plugins.radius.journal import SUFFIX
    from backhaul.plugins.radius.models import Session
    from backhaul.sdk.testing.outage import DatabaseOutage

    if shutil.which("radclient") is None:
        peer_missing("radclient (freeradius-utils)")
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the outage is made with PostgreSQL's connection limit")
    _, sub, _ = make_subscriber(app)
    sub_id = sub.id
    user, folder = f"pppoe{sub_id}", tmp_path / "journal"
    db.session.commit()
    db.session.close()
    outage = DatabaseOutage(db.engine.url)
    try:
        first = RadiusProcess(app, free_port(), free_port(), journal_dir=str(folder)).start()
        outage.start()
        db.engine.dispose()  # the pool's connections were terminated
        target = f"127.0.0.1:{first.acct_port}"
        for status, inp, out in (("Start", 0, 0), ("Interim-Update", 7000, 11000)):
            code, text = radclient(target, "acct", NAS_SECRET, (
                f'User-Name = "{user}"\nAcct-Status-Type = {status}\n'
                f'Acct-Session-Id = "O-1"\nAcct-Input-Octets = {inp}\n'
                f"Acct-Output-Octets = {out}\n"))
            assert code == 0 and "Accounting-Response" in text, text
        first.stop()  # SIGTERM: a clean stop, the writer still retrying
        assert first.proc.returncode is not None
        assert list(folder.glob(f"*{SUFFIX}")), \
            "the answered updates were never committed: their segment must stay"
    finally:
        outage.close()
    db.engine.dispose()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 0
    with RadiusProcess(app, free_port(), free_port(), journal_dir=str(folder)):

        def session():
            row = db.session.scalar(sa.select(Session).where(Session.acct_session_id == "O-1"))
            return row and (row.subscription_id, row.input_octets, row.output_octets)

        assert eventually(session, (sub_id, 7000, 11000)) == (sub_id, 7000, 11000)
