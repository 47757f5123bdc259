"""The poller's periodic job (idempotent)."""
from __future__ import annotations

from backhaul.sdk import current_plugin_settings, utcnow

from .store import prune


def prune_samples() -> int:
    """Delete samples past ``retention_days``."""
    return prune(utcnow(), (current_plugin_settings("poller") or {}).get("retention_days", 30))
