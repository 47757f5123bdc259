"""Records every ORM create, update and delete, and explicit events, into the audit chain.

How it works (SQLAlchemy session events on the app's ``Session`` class):

* ``after_flush`` describes each new, changed and deleted object (its table, primary key and
  the before/after of the changed columns) and keeps the description in ``session.info``;
  :func:`record` adds explicit events (security, money) to the same list.
* ``before_commit`` of the outermost transaction flushes what is left, then appends the list
  to the hash chain inside the same transaction (:func:`backhaul.core.audit.chain.append`).
  The chain head stays locked only from there to the end of the commit.
* A rollback discards the list (a savepoint rollback discards what was recorded since the
  savepoint began): an entry exists exactly when its change was committed.

Model attributes that steer it:

* ``__audit__ = False`` — never record this model (sessions, jobs, login attempts...).
* ``__audit_secret__ = ("password_hash", ...)`` — record that the column changed, never its
  value (shown as ``"***"``). Common secret names (:data:`ALWAYS_SECRET`) are always redacted.
* ``__audit_exclude__ = ("last_used_at", ...)`` — columns never copied into the trail
  (bookkeeping that changes on every request, or secrets whose change need not show); an
  update that only touches them records nothing. ``created_at``/``updated_at`` are always
  excluded (the entry's ``at`` says when).

Many-to-many collections (a user's roles) are recorded on the owning object as
``{"roles": {"added": [ids], "removed": [ids]}}``; one-to-many changes show on the child row.

Changes made with bulk SQL (``session.execute(update(...))``) bypass the ORM and are not seen
here: call :func:`record` for those.
"""
from __future__ import annotations

import enum
import math
import uuid
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

from backhaul.core.actor import current_actor
from backhaul.core.db import Session, db, utcnow

from . import chain

PENDING = "backhaul.audit.pending"
REDACTED = "***"
ALWAYS_SECRET = frozenset({"password", "password_hash", "secret", "token", "token_hash",
                           "totp_secret", "api_key", "private_key"})
ALWAYS_EXCLUDED = frozenset({"created_at", "updated_at"})  # the entry has its own time


# ------------------------------------------------------------------------------ public API
def record(action: str, object_type: str, object_id: object = None,
           changes: dict | None = None, *, session=None) -> None:
    """Record an explicit event, e.g. ``record("auth.login_failed", "auth_user", user.id)``.

    The entry is written with the current transaction: it exists once that transaction
    commits and never if it rolls back (commit even when the event is a refusal). The actor
    is :func:`backhaul.core.actor.current_actor`. ``changes`` is any JSON-like dict; values
    under common secret names are redacted.
    """
    for name, value, limit in (("action", action, 64), ("object_type", object_type, 64)):
        if not isinstance(value, str) or not value or len(value) > limit:
            raise ValueError(f"audit {name} must be a non-empty string of at most {limit} "
                             f"characters, got {value!r}")
    data = None
    if changes is not None:
        data = {str(k): REDACTED if k in ALWAYS_SECRET else jsonable(v)
                for k, v in changes.items()}
    _add(session or db.session(),
         _entry(action, object_type, None if object_id is None else str(object_id), data))


def jsonable(value):
    """A JSON value for ``value`` that reads back identically (the hash depends on it)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "amount") and hasattr(value, "currency"):  # Money
        return {"amount": jsonable(value.amount), "currency": value.currency}
    return str(value)


# ------------------------------------------------------------------------------ describing
def _entry(action: str, object_type: str, object_id: str | None, changes: dict | None) -> dict:
    actor = current_actor()
    return {"at": utcnow(), "actor_kind": actor.kind,
            "actor_id": None if actor.id is None else str(actor.id)[:64],
            "actor_label": (actor.label or "")[:200], "action": action,
            "object_type": object_type[:64],
            "object_id": None if object_id is None else object_id[:64],
            "changes": changes}


def _audited(mapper) -> bool:
    return getattr(mapper.class_, "__audit__", True) is not False


def _identity(state) -> tuple:
    if state.key is not None:
        return state.key[1]
    return tuple(state.mapper.primary_key_from_instance(state.obj()))


def _object_id(state) -> str:
    return ",".join("" if v is None else str(v) for v in _identity(state))


def _value(key: str, value, secrets: frozenset[str]):
    return REDACTED if key in secrets and value is not None else jsonable(value)


def _column_change(state, key: str, secrets: frozenset[str]) -> dict | None:
    history = state.attrs[key].history
    if not history.has_changes():
        return None
    change = {"after": _value(key, history.added[0] if history.added else None, secrets)}
    if history.deleted:  # unknown when the old value was never loaded: then only "after"
        change["before"] = _value(key, history.deleted[0], secrets)
        if change["before"] == change["after"] and key not in secrets:
            return None
    return change


def _collection_change(state, key: str) -> dict | None:
    history = state.attrs[key].history
    if not history.has_changes():
        return None
    ids = [[_object_id(sa.inspect(obj)) for obj in objs]
           for objs in (history.added or (), history.deleted or ())]
    return {"added": ids[0], "removed": ids[1]} if ids[0] or ids[1] else None


def describe(state, action: str) -> dict | None:
    """The entry for one flushed object, or ``None`` when there is nothing to record."""
    mapper = state.mapper
    if not _audited(mapper):
        return None
    cls = mapper.class_
    excluded = ALWAYS_EXCLUDED | frozenset(getattr(cls, "__audit_exclude__", ()))
    secrets = ALWAYS_SECRET | frozenset(getattr(cls, "__audit_secret__", ())) \
        | frozenset(getattr(cls, "__sealed__", ()))
    changes: dict[str, dict] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in excluded:
            continue
        if action == "update":
            change = _column_change(state, key, secrets)
            if change is not None:
                changes[key] = change
        elif state.dict.get(key) is not None:
            changes[key] = {"after" if action == "create" else "before":
                            _value(key, state.dict[key], secrets)}
    if action != "delete":
        for rel in mapper.relationships:
            if rel.secondary is not None and rel.key not in excluded and not rel.viewonly:
                change = _collection_change(state, rel.key)
                if change is not None:
                    changes[rel.key] = change
    if action == "update" and not changes:
        return None
    return _entry(action, mapper.local_table.name, _object_id(state), changes)


# ------------------------------------------------------------------------------ session events
def _add(session, entry: dict) -> None:
    """Queue ``entry``, tagged with the transaction or savepoint it belongs to."""
    tx = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append((tx, entry))


def _within(tx, ended) -> bool:
    """Whether an entry tagged ``tx`` was recorded inside the transaction ``ended``."""
    if tx is None:
        return ended.parent is None
    while tx is not None:
        if tx is ended:
            return True
        tx = tx.parent
    return False


def _load_deleted(session, flush_context, instances) -> None:
    """Before a delete is flushed, load its unloaded columns so the entry shows them."""
    for obj in list(session.deleted):
        state = sa.inspect(obj)
        if not _audited(state.mapper):
            continue
        for key in state.unloaded & {a.key for a in state.mapper.column_attrs}:
            try:
                getattr(obj, key)
            except sa.exc.SQLAlchemyError:
                break  # the row is already gone: record what is known


def _capture(session, flush_context) -> None:
    for objects, action in ((session.new, "create"), (session.dirty, "update"),
                            (session.deleted, "delete")):
        for obj in list(objects):
            entry = describe(sa.inspect(obj), action)
            if entry is not None:
                _add(session, entry)


def _write(session) -> None:
    """``before_commit`` of the outermost transaction: chain what was recorded, in it.

    A savepoint's release also fires ``before_commit``; its entries wait for the outer
    commit, so a long transaction made of savepoints (a billing run) does not hold the chain
    head, which every other writer needs, for its whole duration.
    """
    if session.get_nested_transaction() is not None:
        return
    if not (session.info.get(PENDING) or session.new or session.dirty or session.deleted):
        return
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        chain.append(session, [entry for _, entry in pending])


def _rolled_back(session, previous_transaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [(tx, entry) for tx, entry in pending
                                 if not _within(tx, previous_transaction)]


def _ended(session, transaction) -> None:
    if transaction.parent is None:  # closed without commit: nothing recorded survives
        session.info.pop(PENDING, None)


_LISTENERS = (("before_flush", _load_deleted), ("after_flush", _capture),
              ("before_commit", _write), ("after_soft_rollback", _rolled_back),
              ("after_transaction_end", _ended))


def install(session_class=Session) -> None:
    """Listen on ``session_class`` (idempotent). Called when the audit plugin is imported."""
    for event, listener in _LISTENERS:
        if not sa.event.contains(session_class, event, listener):
            sa.event.listen(session_class, event, listener)
