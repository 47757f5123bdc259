"""The database: one Flask-SQLAlchemy instance in SQLAlchemy 2.0 style, Money columns, mixins.

Tables are namespaced by owner: ``core_*`` for the core, ``<plugin>_*`` for a plugin. The
metadata carries a naming convention so that constraint names are stable across SQLite and
PostgreSQL and Alembic can compare them.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column
from sqlalchemy.types import TypeDecorator

from backhaul.sdk.money import Money

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
    :func:`after_commit` is queued in ``session.info`` and run here, after ``commit()``
    returned; a rollback discards it (never run for a rolled-back change).
    """

    _draining = False

    def commit(self) -> None:
        super().commit()
        if self._draining:
            return
        self._draining = True
        try:
            while self.info.get(_AFTER_COMMIT_READY):
                callbacks = self.info.pop(_AFTER_COMMIT_READY)
                for callback in callbacks:
                    callback()
                if self.new or self.dirty or self.deleted:
                    super().commit()
                    self._promote()
        finally:
            self._draining = False

    def _promote(self) -> None:
        pending = self.info.pop(_AFTER_COMMIT_PENDING, None)
        if pending:
            self.info.setdefault(_AFTER_COMMIT_READY, []).extend(pending)


_AFTER_COMMIT_PENDING = "backhaul.after_commit.pending"
_AFTER_COMMIT_READY = "backhaul.after_commit.ready"


def after_commit(callback, session=None) -> None:
    """Run ``callback()`` after the current transaction commits; never if it rolls back."""
    session = session or db.session()
    session.info.setdefault(_AFTER_COMMIT_PENDING, []).append(callback)


@sa.event.listens_for(Session, "after_commit")
def _promote_after_commit(session) -> None:
    session._promote()


@sa.event.listens_for(Session, "after_rollback")
def _discard_after_rollback(session) -> None:
    session.info.pop(_AFTER_COMMIT_PENDING, None)


db = SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True},
                session_options={"class_": Session})


def configure_sqlite(engine) -> None:
    """Make pysqlite honour transactions (BEGIN, SAVEPOINT) and enforce foreign keys.

    pysqlite's legacy mode starts transactions lazily on its own and breaks SAVEPOINT; the
    SQLAlchemy-documented fix is to disable that and emit BEGIN ourselves.
    """
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


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
