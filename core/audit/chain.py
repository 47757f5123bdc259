"""The hash chain: canonical form of an entry, appending under a lock, verification.

Plain functions over a SQLAlchemy session/connection (no Flask), so the CLI, the recorder and
the tests share them.

Appends are serialised on the single ``audit_chain_head`` row: ``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite a no-op ``UPDATE`` first takes the database's write lock. Two
concurrent transactions therefore append one after the other; the second sees the first's
head once the first has committed, and the chain never forks.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .models import GENESIS_HASH, AuditChainHead, AuditEntry

HEAD_ID = 1
#: The fields an entry's hash covers, in addition to ``prev_hash``.
HASHED_FIELDS = ("seq", "at", "actor_kind", "actor_id", "actor_label", "action",
                 "object_type", "object_id", "changes")


def canonical_json(value) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(fields: dict, prev_hash: str) -> str:
    """sha256 over the canonical JSON of the entry's fields and the previous hash."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["at"] = _timestamp(fields["at"])
    payload["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _lock_head(session) -> tuple[int, str]:
    """Lock the chain head for this transaction; return ``(last seq, last hash)``."""
    dialect = session.get_bind().dialect.name
    head = sa.select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
    if dialect == "sqlite":
        session.execute(sa.update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                        .values(seq=AuditChainHead.seq))
    else:
        head = head.with_for_update()
    row = session.execute(head).first()
    if row is None:
        _create_head(session, dialect)
        row = session.execute(head).first()
    return int(row.seq), row.hash


def _create_head(session, dialect: str) -> None:
    """First append (or the head row was lost): start from the last entry, if any."""
    last = session.execute(sa.select(AuditEntry.seq, AuditEntry.hash)
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    values = {"id": HEAD_ID, "seq": last.seq if last else 0,
              "hash": last.hash if last else GENESIS_HASH}
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(AuditChainHead).values(**values).on_conflict_do_nothing())


def append(session, entries: Iterable[dict]) -> list[dict]:
    """Chain and insert ``entries`` (dicts of :data:`HASHED_FIELDS` minus ``seq``).

    Must run inside the caller's transaction; the head stays locked until it ends.
    Returns the inserted rows (with ``seq``, ``prev_hash`` and ``hash``).
    """
    entries = list(entries)
    if not entries:
        return []
    seq, prev = _lock_head(session)
    rows = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": prev}
        row["hash"] = prev = entry_hash(row, prev)
        rows.append(row)
    session.execute(sa.insert(AuditEntry), rows)
    session.execute(sa.update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                    .values(seq=seq, hash=prev))
    return rows


# ---------------------------------------------------------------------------- verification
@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`: ``ok``, how many entries were checked, the first problem."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(session, batch_size: int = 1000) -> Verification:
    """Walk the chain in ``seq`` order and report the first entry that does not fit.

    Detects an altered entry (its hash no longer matches its content), a removed or inserted
    entry (a gap in ``seq`` or a ``prev_hash`` that is not the previous hash) and entries cut
    off the end (the head names a later entry than the last one found).
    """
    expected_seq, prev, checked, last = 1, GENESIS_HASH, 0, None
    columns = [getattr(AuditEntry, name) for name in HASHED_FIELDS] + [
        AuditEntry.prev_hash, AuditEntry.hash]
    while True:
        rows = session.execute(sa.select(*columns).where(AuditEntry.seq >= expected_seq)
                               .order_by(AuditEntry.seq).limit(batch_size)).all()
        for row in rows:
            fields = row._asdict()
            if row.seq != expected_seq:
                return Verification(False, checked, expected_seq,
                                    f"entry {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return Verification(False, checked, row.seq,
                                    "prev_hash does not match the previous entry's hash")
            if entry_hash(fields, prev) != row.hash:
                return Verification(False, checked, row.seq,
                                    "content does not match its hash (altered)")
            prev, expected_seq, checked, last = row.hash, row.seq + 1, checked + 1, row
        if len(rows) < batch_size:
            break
    head = session.execute(sa.select(AuditChainHead.seq, AuditChainHead.hash)
                           .where(AuditChainHead.id == HEAD_ID)).first()
    if head is None and last is not None:
        return Verification(False, checked, last.seq + 1,
                            "the chain head row is missing (removed outside the application)")
    if head is not None and (head.seq, head.hash) != ((last.seq, last.hash) if last
                                                      else (0, GENESIS_HASH)):
        return Verification(False, checked, (last.seq + 1) if last else 1,
                            f"the chain head names entry {head.seq}, but the last entry "
                            f"found is {last.seq if last else 'none'} (entries removed)")
    return Verification(True, checked)
