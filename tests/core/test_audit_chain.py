"""The audit trail's hash chain: verification finds tampering; appends never fork it."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from graphql_helpers import Maker, tst_app_fixture

from backhaul.core.actor import Actor, acting_as
from backhaul.core.audit import chain
from backhaul.core.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from backhaul.core.db import db
from backhaul.sdk import audit


@pytest.fixture
def tst_app(make_app, temp_plugin):
    yield from tst_app_fixture(make_app, temp_plugin)



def _seed(n: int = 5) -> None:
    for i in range(1, n + 1):
        db.session.add(Maker(id=i, name=f"m{i}"))
        db.session.commit()


def _tamper(sql: str, table: str = "audit_entry", trigger: str = "audit_entry_append_only"):
    """Change the trail behind the application's back (as the table's owner would)."""
    db.session.remove()
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        conn.exec_driver_sql(sql)
        if postgres:
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def _verify_cli(app):
    from backhaul.core.cli import _State, main

    state = _State()
    state._app = app
    return CliRunner().invoke(main, ["audit", "verify"], obj=state)


def test_an_intact_chain_verifies(tst_app):
    assert chain.verify(db.session) == chain.Verification(True, 0)
    _seed(5)
    audit.record("auth.login_failed", "auth_user", 1)
    db.session.commit()
    result = chain.verify(db.session, batch_size=2)  # several batches
    assert result.ok and result.checked == 6
    rows = list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (6, rows[-1].hash)
    cli = _verify_cli(tst_app)
    assert cli.exit_code == 0 and "6 entries verified" in cli.output


@pytest.mark.parametrize("sql, broken, reason", [
    ("UPDATE audit_entry SET actor_label = 'mallory' WHERE seq = 3", 3, "altered"),
    ("UPDATE audit_entry SET changes = NULL WHERE seq = 2", 2, "altered"),
    ("DELETE FROM audit_entry WHERE seq = 4", 4, "missing"),
    ("DELETE FROM audit_entry WHERE seq = 5", 5, "entries removed"),
    ("UPDATE audit_entry SET hash = 'x', prev_hash = 'y' WHERE seq = 1", 1, "prev_hash"),
])
def test_tampering_is_detected_at_the_first_broken_entry(tst_app, sql, broken, reason):
    _seed(5)
    _tamper(sql)
    result = chain.verify(db.session)
    assert not result.ok
    assert result.broken_seq == broken and reason in result.reason
    cli = _verify_cli(tst_app)
    assert cli.exit_code == 1
    assert f"BROKEN at entry {broken}" in cli.output


def test_recomputing_a_hash_does_not_hide_an_edit(tst_app):
    _seed(3)
    row = db.session.get(AuditEntry, 2)
    fields = {name: getattr(row, name) for name in chain.HASHED_FIELDS}
    fields["actor_label"] = "mallory"
    forged = chain.entry_hash(fields, row.prev_hash)
    _tamper(f"UPDATE audit_entry SET actor_label = 'mallory', hash = '{forged}' WHERE seq = 2")
    result = chain.verify(db.session)
    assert not result.ok and result.broken_seq == 3  # the next entry no longer links


def test_removing_the_chain_head_is_detected(tst_app):
    _seed(2)
    _tamper("DELETE FROM audit_chain_head", "audit_chain_head", "audit_chain_head_keep")
    result = chain.verify(db.session)
    assert not result.ok and "head row is missing" in result.reason


def test_postgres_refuses_changes_to_the_trail(tst_app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    _seed(2)
    for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry",
                      "DELETE FROM audit_chain_head"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert chain.verify(db.session).ok


def test_savepoints_do_not_hold_the_chain_head(tst_app):
    """Only the outer commit appends: a long transaction of savepoints blocks nobody."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer anyway")
    _seed(1)
    for i in (2, 3):
        with db.session.begin_nested():
            db.session.add(Maker(id=i, name=f"m{i}"))
    with db.engine.connect() as other:  # another transaction can still lock the head now
        other.exec_driver_sql("SELECT seq FROM audit_chain_head FOR UPDATE NOWAIT")
        other.rollback()
    db.session.commit()
    assert [e.object_id for e in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.seq))] == ["1", "2", "3"]
    assert chain.verify(db.session).ok


def test_two_threads_appending_at_once_never_fork_the_chain(tst_app):
    per_thread, errors = 25, []
    barrier = threading.Barrier(2)

    def work(offset: int) -> None:
        try:
            with tst_app.app_context(), acting_as(Actor("job", str(offset), f"worker {offset}")):
                barrier.wait()
                for i in range(per_thread):
                    db.session.add(Maker(id=offset + i, name=f"t{offset + i}"))
                    audit.record("tst.event", "tst_maker", offset + i)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    seqs = list(db.session.scalars(sa.select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, 4 * per_thread + 1))
    result = chain.verify(db.session)
    assert result.ok and result.checked == 4 * per_thread
    actors = set(db.session.scalars(sa.select(AuditEntry.actor_label)))
    assert actors == {"worker 1000", "worker 2000"}
