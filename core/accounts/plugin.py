"""The core's accounts feature, contributed through public hooks like any plugin."""
from __future__ import annotations

from backhaul.sdk import PluginMeta

META = PluginMeta(name="accounts", description="accounts", essential=True)
