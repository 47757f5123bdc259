"""Gap-free document numbers per series (INV-000001, INV-000002, ... and CN-...).

Numbers are taken inside the transaction that finalizes the documents, from a counter row
locked ``FOR UPDATE``: two finalizing transactions queue on the lock, and a rolled-back
transaction rolls its numbers back with it, so the sequence has no gaps and no duplicates
(the unique ``(series, number)`` constraint is the backstop). SQLite has no row locks but
serialises writers on the database, which gives the same guarantee.

The billing run takes a whole block of numbers with one lock per chunk of accounts.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backhaul.sdk import db

from .models import InvoiceCounter


def take(series: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers of ``series``; returns the first one."""
    if count < 1:
        raise ValueError("count must be at least 1")
    table = InvoiceCounter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    db.session.execute(insert.values(series=series, next_number=1)
                       .on_conflict_do_nothing(index_elements=["series"]))
    first = db.session.execute(sa.select(table.c.next_number).where(table.c.series == series)
                               .with_for_update()).scalar_one()
    db.session.execute(sa.update(table).where(table.c.series == series)
                       .values(next_number=first + count))
    return first


__all__ = ["take"]
