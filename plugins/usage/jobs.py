"""Periodic work: raw flows older than ``raw_flow_hours`` are deleted (idempotent)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import current_plugin_settings, db, utcnow

from .models import Flow


def prune_flows() -> int:
    hours = int(current_plugin_settings("usage").get("raw_flow_hours") or 0)
    cutoff = utcnow() - timedelta(hours=hours)
    result = db.session.execute(sa.delete(Flow).where(Flow.at < cutoff))
    db.session.commit()
    return result.rowcount or 0
