"""Accounting: sessions whose byte totals only grow, and the usage each update adds.

A NAS reports running totals (Acct-Input/Output-Octets plus Gigawords for 64 bits), so the
usage of an update is its total minus the stored total. Totals are kept monotonic per
direction: a retransmitted Interim (same totals) adds nothing, an older one arriving late
(smaller totals) is ignored, a Stop then a late Interim leaves the session stopped. Each
update that added bytes is announced through the ``radius_usage`` hook (this plugin's
``hookspecs``) in the same transaction, for the usage plugin.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backhaul.sdk import call_hook, db

from .models import Session

START, STOP, INTERIM, ACCOUNTING_ON, ACCOUNTING_OFF = 1, 2, 3, 7, 8
NAS_REBOOT = 11  # Acct-Terminate-Cause


@dataclass(frozen=True)
class Update:
    status: int
    session_id: str
    username: str
    at: datetime
    input_octets: int = 0
    output_octets: int = 0
    session_time: int = 0
    framed_ip: str | None = None
    calling_station: str | None = None
    terminate_cause: int | None = None


@dataclass(frozen=True)
class Usage:
    """Bytes one accounting update added to one service's session."""

    subscription_id: int | None
    session_id: int
    at: datetime
    input_octets: int
    output_octets: int
    source: str


def record(device_id: int, update: Update, *, subscription_id: int | None = None,
           account_id: int | None = None, source: str = "radius") -> Usage | None:
    """Apply one update (flushes; the caller commits). Returns the usage it added."""
    if update.status in (ACCOUNTING_ON, ACCOUNTING_OFF):
        close_all(device_id, update.at)
        return None
    row = _session(device_id, update, subscription_id, account_id, source)
    added_in, added_out = _apply(row, update)
    db.session.flush()
    if not (added_in or added_out):
        return None
    usage = Usage(row.subscription_id, row.id, update.at, added_in, added_out, source)
    call_hook("radius_usage", usages=[usage])
    return usage


@dataclass(frozen=True)
class Item:
    device_id: int
    update: Update
    subscription_id: int | None = None
    account_id: int | None = None
    source: str = "radius"


class _Row:
    """A session's mutable totals while a batch is applied (plain attributes, so
    :func:`_apply` works on it as on a mapped :class:`Session`)."""

    __slots__ = ("id", "subscription_id", "source", "input_octets", "output_octets",
                 "session_time", "updated_at", "stopped_at", "framed_ip", "terminate_cause",
                 "changed")

    def __init__(self, row):
        (self.id, self.subscription_id, self.source, self.input_octets, self.output_octets,
         self.session_time, self.updated_at, self.stopped_at, self.framed_ip,
         self.terminate_cause) = row[2:]
        self.changed = False


_T = Session.__table__
_COLUMNS = (_T.c.device_id, _T.c.acct_session_id, _T.c.id, _T.c.subscription_id, _T.c.source,
            _T.c.input_octets, _T.c.output_octets, _T.c.session_time, _T.c.updated_at,
            _T.c.stopped_at, _T.c.framed_ip, _T.c.terminate_cause)
#: new sessions; one created a moment ago by another process is left as it is
_INSERT = sa.text(
    "INSERT INTO radius_session (device_id, acct_session_id, username, subscription_id, "
    "account_id, framed_ip, calling_station, started_at, updated_at, input_octets, "
    "output_octets, session_time, source) VALUES (:device_id, :acct_session_id, :username, "
    ":subscription_id, :account_id, :framed_ip, :calling_station, :started_at, :updated_at, "
    "0, 0, 0, :source) ON CONFLICT (device_id, acct_session_id) DO NOTHING")
_UPDATE = (sa.update(_T).where(_T.c.id == sa.bindparam("b_id")).values(
    input_octets=sa.bindparam("b_in"), output_octets=sa.bindparam("b_out"),
    session_time=sa.bindparam("b_time"), updated_at=sa.bindparam("b_updated"),
    stopped_at=sa.bindparam("b_stopped"), framed_ip=sa.bindparam("b_ip"),
    terminate_cause=sa.bindparam("b_cause")))
LOCK_CHUNK = 2000


#: PostgreSQL: the keys as two array parameters, one statement text whatever the batch
#: size (an IN list of 500 pairs is a new 1,000-parameter statement to build and plan)
_LOCK_PG = sa.text(
    "SELECT device_id, acct_session_id, id, subscription_id, source, input_octets, "
    "output_octets, session_time, updated_at, stopped_at, framed_ip, terminate_cause "
    "FROM radius_session WHERE (device_id, acct_session_id) IN (SELECT * FROM "
    "unnest(CAST(:devices AS integer[]), CAST(:sessions AS varchar[]))) "
    "ORDER BY device_id, acct_session_id FOR UPDATE").columns(*_COLUMNS)


def _lock_rows(keys: list[tuple[int, str]]) -> dict[tuple[int, str], _Row]:
    """The sessions with these keys, locked in key order (two processes locking
    overlapping batches take the locks in one order, never deadlocking)."""
    rows = {}
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for at in range(0, len(keys), LOCK_CHUNK):
        chunk = keys[at:at + LOCK_CHUNK]
        if postgres:
            result = db.session.execute(_LOCK_PG, {"devices": [k[0] for k in chunk],
                                                   "sessions": [k[1] for k in chunk]})
        else:
            result = db.session.execute(
                sa.select(*_COLUMNS)
                .where(sa.tuple_(_T.c.device_id, _T.c.acct_session_id).in_(chunk))
                .order_by(_T.c.device_id, _T.c.acct_session_id).with_for_update())
        for row in result:
            rows[(row[0], row[1])] = _Row(row)
    return rows


def record_many(items: list[Item]) -> list[Usage]:
    """Apply a batch of updates with a handful of statements whatever its size: the
    sessions it touches selected and locked (one SELECT per 2,000), the new ones inserted
    (one pipelined INSERT ... ON CONFLICT DO NOTHING, then selected), the changed ones
    written back (one pipelined UPDATE) and one ``radius_usage`` call. Plain rows, not
    mapped objects: the RADIUS writer applies thousands of updates a second. The same
    rules as :func:`record` (:func:`_apply`), in arrival order, so applying a batch again
    (a journal replayed after a crash) adds nothing."""
    usages: list[Usage] = []
    run: list[Item] = []
    for item in items:  # an Accounting-On/Off ends what came before it in the batch
        if item.update.status in (ACCOUNTING_ON, ACCOUNTING_OFF):
            usages += _record_run(run)
            run = []
            close_all(item.device_id, item.update.at)
        else:
            run.append(item)
    return usages + _record_run(run)


def _record_run(items: list[Item]) -> list[Usage]:
    usages: list[Usage] = []
    if not items:
        return usages
    keys = sorted({(i.device_id, i.update.session_id) for i in items})
    rows = _lock_rows(keys)
    fresh: dict[tuple[int, str], dict] = {}
    for item in items:
        key, u = (item.device_id, item.update.session_id), item.update
        if key not in rows and key not in fresh:
            fresh[key] = {
                "device_id": item.device_id, "acct_session_id": u.session_id,
                "username": u.username[:64], "subscription_id": item.subscription_id,
                "account_id": item.account_id, "framed_ip": u.framed_ip,
                "calling_station": (u.calling_station or "")[:64] or None,
                "started_at": u.at - timedelta(seconds=max(0, u.session_time)),
                "updated_at": u.at, "source": item.source}
    if fresh:
        db.session.execute(_INSERT, [fresh[k] for k in sorted(fresh)])
        rows.update(_lock_rows(sorted(fresh)))
    for item in items:
        row, u = rows[(item.device_id, item.update.session_id)], item.update
        added_in, added_out = _apply(row, u)
        row.changed = True
        if added_in or added_out:
            usages.append(Usage(row.subscription_id, row.id, u.at, added_in, added_out,
                                row.source))
    changed = [{"b_id": r.id, "b_in": r.input_octets, "b_out": r.output_octets,
                "b_time": r.session_time, "b_updated": r.updated_at,
                "b_stopped": r.stopped_at, "b_ip": r.framed_ip,
                "b_cause": r.terminate_cause}
               for _, r in sorted(rows.items()) if r.changed]
    if changed:
        db.session.execute(_UPDATE, changed)
    if usages:
        call_hook("radius_usage", usages=usages)
    return usages


def _apply(row, update: Update) -> tuple[int, int]:
    """The one rule for an update: totals only grow, a finished session stays finished.
    Returns the bytes it added (in, out)."""
    if row.stopped_at is not None:
        return 0, 0  # a late or repeated packet of a finished session
    added_in = max(0, update.input_octets - row.input_octets)
    added_out = max(0, update.output_octets - row.output_octets)
    row.input_octets += added_in
    row.output_octets += added_out
    row.session_time = max(row.session_time, update.session_time)
    row.updated_at = max(row.updated_at, update.at)
    if update.framed_ip:
        row.framed_ip = update.framed_ip
    if update.status == STOP:
        row.stopped_at = update.at
        row.terminate_cause = update.terminate_cause
    return added_in, added_out


def _session(device_id, update, subscription_id, account_id, source) -> Session:
    query = sa.select(Session).where(Session.device_id == device_id,
                                     Session.acct_session_id == update.session_id)
    row = db.session.scalar(query.with_for_update())
    if row is not None:
        return row
    started = update.at - timedelta(seconds=max(0, update.session_time))
    row = Session(device_id=device_id, acct_session_id=update.session_id,
                  username=update.username[:64], subscription_id=subscription_id,
                  account_id=account_id, framed_ip=update.framed_ip,
                  calling_station=(update.calling_station or "")[:64] or None,
                  started_at=started, updated_at=update.at, input_octets=0,
                  output_octets=0, session_time=0, source=source)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # another process created it a moment ago
        row = db.session.scalar(query.with_for_update())
    return row


def close_all(device_id: int, at: datetime) -> int:
    """Accounting-On/Off: the NAS restarted, every session it had is over — every session
    last heard of before ``at``: one updated after it began after the restart (and an
    Accounting-On applied again, from a journal, must not end it)."""
    result = db.session.execute(
        sa.update(Session).where(Session.device_id == device_id, Session.stopped_at.is_(None),
                                 Session.updated_at <= at)
        .values(stopped_at=at, terminate_cause=NAS_REBOOT))
    return result.rowcount or 0


def open_sessions(subscription_ids) -> list[Session]:
    return list(db.session.scalars(sa.select(Session).where(
        Session.subscription_id.in_(list(subscription_ids)), Session.stopped_at.is_(None))))
