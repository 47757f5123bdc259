"""The core's auth feature, contributed through public hooks like any plugin."""
from __future__ import annotations

from backhaul.sdk import PluginMeta

META = PluginMeta(name="auth", description="auth", essential=True)
