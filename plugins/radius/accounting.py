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


def record_many(items: list[Item]) -> list[Usage]:
    """Apply a batch of updates with a constant number of statements: one SELECT of the
    sessions it touches (locked), one INSERT of the new ones, the UPDATEs in one flush and
    one ``radius_usage`` call. The same rules as :func:`record`, in arrival order."""
    usages: list[Usage] = []
    restarts = [i for i in items if i.update.status in (ACCOUNTING_ON, ACCOUNTING_OFF)]
    for item in restarts:
        close_all(item.device_id, item.update.at)
    items = [i for i in items if i.update.status not in (ACCOUNTING_ON, ACCOUNTING_OFF)]
    if not items:
        return usages
    keys = {(i.device_id, i.update.session_id) for i in items}
    rows = {(r.device_id, r.acct_session_id): r for r in db.session.scalars(
        sa.select(Session).where(sa.tuple_(Session.device_id, Session.acct_session_id)
                                 .in_(list(keys))).with_for_update())}
    fresh = []
    for item in items:
        key = (item.device_id, item.update.session_id)
        if key not in rows:
            u = item.update
            rows[key] = Session(
                device_id=item.device_id, acct_session_id=u.session_id,
                username=u.username[:64], subscription_id=item.subscription_id,
                account_id=item.account_id, framed_ip=u.framed_ip,
                calling_station=(u.calling_station or "")[:64] or None,
                started_at=u.at - timedelta(seconds=max(0, u.session_time)), updated_at=u.at,
                input_octets=0, output_octets=0, session_time=0, source=item.source)
            fresh.append(rows[key])
    if fresh:
        try:
            with db.session.begin_nested():
                db.session.add_all(fresh)
        except IntegrityError:  # another process created one a moment ago: one at a time
            return [u for i in items if (u := record(
                i.device_id, i.update, subscription_id=i.subscription_id,
                account_id=i.account_id, source=i.source)) is not None]
    for item in items:
        row, u = rows[(item.device_id, item.update.session_id)], item.update
        added_in, added_out = _apply(row, u)
        if added_in or added_out:
            usages.append(Usage(row.subscription_id, row, u.at, added_in, added_out,
                                row.source))
    db.session.flush()
    usages = [Usage(x.subscription_id, x.session_id.id, x.at, x.input_octets,
                    x.output_octets, x.source) for x in usages]
    if usages:
        call_hook("radius_usage", usages=usages)
    return usages


def _apply(row: Session, update: Update) -> tuple[int, int]:
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
    """Accounting-On/Off: the NAS restarted, every session it had is over."""
    result = db.session.execute(
        sa.update(Session).where(Session.device_id == device_id, Session.stopped_at.is_(None))
        .values(stopped_at=at, terminate_cause=NAS_REBOOT))
    return result.rowcount or 0


def open_sessions(subscription_ids) -> list[Session]:
    return list(db.session.scalars(sa.select(Session).where(
        Session.subscription_id.in_(list(subscription_ids)), Session.stopped_at.is_(None))))
