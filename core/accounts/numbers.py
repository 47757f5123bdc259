"""Account numbers: a configurable format over a gap-free, race-safe counter.

The counter is a row in ``core_counter`` incremented by an upsert in the *caller's*
transaction: concurrent creators queue on that row's lock, and a rolled-back creation rolls the
counter back too, so numbers never have gaps and never repeat. (A database SEQUENCE would be
faster but leaves gaps on rollback, which auditors of invoices and accounts dislike.)
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from backhaul.core.config import ConfigError
from backhaul.core.db import db, utcnow

from .models import Counter

ACCOUNT_COUNTER = "account_number"
DEFAULT_FORMAT = "A{seq:06d}"


def next_value(name: str) -> int:
    """Increment counter ``name`` in the current transaction and return the new value."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Counter).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[Counter.name],
                                      set_={"value": Counter.value + 1})
    return int(db.session.execute(stmt.returning(Counter.value)).scalar_one())


def format_number(fmt: str, seq: int, now: datetime | None = None) -> str:
    """Render an account number. Placeholders: ``{seq}`` (with any format spec), ``{year}``."""
    now = now or utcnow()
    try:
        number = fmt.format(seq=seq, year=now.year, month=now.month)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError("ACCOUNT_NUMBER_FORMAT", f"'{fmt}' cannot be rendered ({exc})",
                          "Use placeholders {seq} (e.g. {seq:06d}) and {year}.") from None
    if not number or len(number) > 32 or "{seq" not in fmt:
        raise ConfigError("ACCOUNT_NUMBER_FORMAT", f"'{fmt}' gives '{number}'",
                          "The format must contain {seq} and give at most 32 characters.")
    return number


def next_account_number() -> str:
    fmt = current_app.config.get("ACCOUNT_NUMBER_FORMAT") or DEFAULT_FORMAT
    return format_number(fmt, next_value(ACCOUNT_COUNTER))
