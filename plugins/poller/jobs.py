"""The poller's periodic jobs (idempotent)."""
from __future__ import annotations

from backhaul.sdk import current_plugin_settings, utcnow

from .downsample import downsample
from .store import prune


def _settings() -> dict:
    return current_plugin_settings("poller") or {}


def prune_samples() -> int:
    """Delete samples past ``retention_days``."""
    return prune(utcnow(), _settings().get("retention_days", 30))


def downsample_samples() -> dict:
    """Full resolution -> 5-minute averages -> hourly averages (see ``downsample``)."""
    settings = _settings()
    return downsample(utcnow(), settings.get("raw_hours", 48),
                      settings.get("five_minute_days", 14))


def discover_hosts() -> int:
    """Scan the subnets templates are applied to; new hosts are polled from the next
    target reload."""
    from .discovery import scan_applied

    return scan_applied()
