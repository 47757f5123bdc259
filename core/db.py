"""The database: one Flask-SQLAlchemy instance in SQLAlchemy 2.0 style, Money columns, mixins.

Tables are namespaced by owner: ``core_*`` for the core, ``<plugin>_*`` for a plugin. The
metadata carries a naming convention so that constraint names are stable across SQLite and
PostgreSQL and Alembic can compare them.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column
from sqlalchemy.types import TypeDecorator

from .money import Money

log = logging.getLogger("backhaul.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Session(_FlaskSession):
    """A session that runs after-commit work once the commit has fully returned.

    SQLAlchemy's ``after_commit`` event fires while the session cannot emit SQL, yet event
    subscribers and in-process jobs need the session. So work registered with
    :func:`after_commit` is queued in ``session.info``, tagged with the transaction (or
    savepoint) it was registered in, and run here once ``commit()`` has returned:

    * a rolled-back savepoint discards what was registered inside it (and only that);
    * a rolled-back or closed transaction discards everything it registered;
    * a callback that raises is logged and does not stop the others: the commit it follows
      has already succeeded, so ``commit()`` never raises because of one.

    Work registered by a callback (an event subscriber enqueuing a job) runs in the same drain
    once what the callback wrote is committed. Commit with ``db.session.commit()``: a
    transaction ended through ``with session.begin():`` runs its callbacks at the next one.
    """

    _draining = False

    def commit(self) -> None:
        super().commit()
        if self._draining:
            return  # a callback committing: the outer drain picks up what it registered
        self._draining = True
        try:
            self._promote()
            while ready := self.info.pop(_AFTER_COMMIT_READY, None):
                for callback in ready:
                    self._run_callback(callback)
                self._promote()
        finally:
            self._draining = False

    def _run_callback(self, callback) -> None:
        try:
            callback()
            if self.in_transaction():  # commit what the callback wrote but left open
                super().commit()
        except Exception:
            log.exception("after-commit callback %r failed; its writes are rolled back",
                          callback)
            super().rollback()

    def _promote(self) -> None:
        pending = self.info.pop(_AFTER_COMMIT_PENDING, None)
        if pending:
            self.info.setdefault(_AFTER_COMMIT_READY, []).extend(cb for _, cb in pending)

    def rollback(self) -> None:
        if not self.in_transaction():  # no transaction began since the work was registered
            pending = self.info.get(_AFTER_COMMIT_PENDING)
            if pending:
                self.info[_AFTER_COMMIT_PENDING] = [(tx, cb) for tx, cb in pending
                                                    if tx is not None]
        super().rollback()

    def close(self) -> None:
        _forget(self)
        super().close()

    def reset(self) -> None:
        _forget(self)
        super().reset()


_AFTER_COMMIT_PENDING = "backhaul.after_commit.pending"
_AFTER_COMMIT_READY = "backhaul.after_commit.ready"


def after_commit(callback, session=None) -> None:
    """Run ``callback()`` after the current transaction commits; never if it rolls back.

    Registered inside a savepoint (``begin_nested()``) that rolls back, it is discarded too.
    """
    session = session or db.session()
    tx = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_AFTER_COMMIT_PENDING, []).append((tx, callback))


def _within(tx, ended) -> bool:
    """Whether work tagged with ``tx`` belongs to the transaction ``ended`` (or below it)."""
    if tx is None:  # registered before the root transaction began
        return ended.parent is None
    while tx is not None:
        if tx is ended:
            return True
        tx = tx.parent
    return False


def _forget(session) -> None:
    session.info.pop(_AFTER_COMMIT_PENDING, None)
    session.info.pop(_AFTER_COMMIT_READY, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session, previous_transaction) -> None:
    pending = session.info.get(_AFTER_COMMIT_PENDING)
    if pending:
        session.info[_AFTER_COMMIT_PENDING] = [
            (tx, cb) for tx, cb in pending if not _within(tx, previous_transaction)]


db = SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True},
                session_options={"class_": Session})


#: requests that only read: their transactions start deferred, so readers never queue
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_writer: contextvars.ContextVar[bool] = contextvars.ContextVar("backhaul_writer", default=False)


@contextlib.contextmanager
def writing():
    """Mark a unit of work outside a request (a job, the scheduler's pass) as a writer: on
    SQLite its transactions take the write lock at BEGIN (see :func:`_begin_statement`).
    Use it only where the session is closed at the end, or readers would wait for it."""
    token = _writer.set(True)
    try:
        yield
    finally:
        _writer.reset(token)


def _begin_statement() -> str:
    """``BEGIN IMMEDIATE`` for units of work that may write, plain ``BEGIN`` for readers.

    SQLite has one writer. A deferred transaction that reads first and writes later cannot
    wait for the lock when another writer committed meanwhile (its snapshot is stale): it
    fails at once with "database is locked", whatever the busy timeout. Taking the write
    lock at BEGIN makes writers queue for it (up to ``busy_timeout``) instead. Requests that
    only read (GET) keep deferred transactions and, under WAL, never wait for writers; so do
    the CLI and tests, whose sessions may stay open. Jobs and the scheduler run inside
    :func:`writing`.
    """
    from flask import has_request_context, request

    if _writer.get():
        return "BEGIN IMMEDIATE"
    if has_request_context() and request.method not in READ_ONLY_METHODS:
        return "BEGIN IMMEDIATE"
    return "BEGIN"


def _private_files(database: str | None) -> None:
    """The database file and its WAL companions readable by their owner only."""
    if not database or database == ":memory:":
        return
    import os
    from pathlib import Path

    path = Path(database)
    for candidate in (path, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if not candidate.exists():
            if candidate == path:  # created by the connection: owner-only from the start
                candidate.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(candidate, os.O_CREAT | os.O_WRONLY, 0o600))
            continue
        if candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


def configure_sqlite(engine) -> None:
    """Make pysqlite honour transactions (BEGIN, SAVEPOINT), enforce foreign keys and let
    writers queue for SQLite's single write lock (see :func:`_begin_statement`).

    pysqlite's legacy mode starts transactions lazily on its own and breaks SAVEPOINT; the
    SQLAlchemy-documented fix is to disable that and emit BEGIN ourselves.
    """
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        _private_files(engine.url.database)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(_begin_statement())


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with ``%``, ``_`` and the escape character
    taken literally (use with ``.ilike(pattern, escape="\\")``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


LIKE_ESCAPE = "\\"


def utcnow() -> datetime:
    """Aware UTC now. Every timestamp Backhaul stores is UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` and ``updated_at``, maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 nullable=False)


def money_columns(prefix: str, nullable: bool = False) -> tuple[Any, Any, Any]:
    """``(amount_column, currency_column, composite)`` for a Money attribute.

    Usage in a model::

        total_amount, total_currency, total = money_columns("total")
    """
    amount = mapped_column(f"{prefix}_amount", sa.BigInteger, nullable=nullable)
    currency = mapped_column(f"{prefix}_currency", sa.String(3), nullable=nullable)
    return amount, currency, composite(_money_or_none, amount, currency)


def _money_or_none(amount: int | None, currency: str | None) -> Money | None:
    if amount is None or currency is None:
        return None
    return Money(int(amount), currency)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"
