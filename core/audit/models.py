"""The audit trail's tables: append-only entries chained by hash, and the chain's head.

``audit_entry`` rows are only ever inserted (on PostgreSQL a trigger refuses UPDATE and
DELETE). Each row's ``hash`` covers its own fields and the previous row's hash, so changing,
removing or reordering a row breaks the chain from there on (``backhaul audit verify``).

``audit_chain_head`` holds one row (``id = 1``): the last ``seq`` and ``hash``. Appending locks
it, which serialises appends so that two transactions can never fork the chain; it also lets
verification notice entries cut off the end of the chain.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.core.db import UTCDateTime, db

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One recorded change or event. Never updated or deleted by the application."""

    __tablename__ = "audit_entry"
    __audit__ = False  # the trail does not audit itself

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_label: Mapped[str] = mapped_column(sa.String(200), default="")
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    changes: Mapped[dict | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (
        sa.Index("ix_audit_entry_object", "object_type", "object_id"),
        sa.Index("ix_audit_entry_actor", "actor_kind", "actor_id"),
        {"info": {"append_only": True}},  # test kits empty it with TRUNCATE, not DELETE
    )


class AuditChainHead(db.Model):
    """The single row that appends lock: the chain's last ``seq`` and ``hash``."""

    __tablename__ = "audit_chain_head"
    __audit__ = False
    __table_args__ = ({"info": {"append_only": True}},)  # a trigger refuses DELETE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))
