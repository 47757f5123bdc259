"""The core's audit feature, contributed through public hooks like any plugin."""
from __future__ import annotations

from backhaul.sdk import PluginMeta

META = PluginMeta(name="audit", description="audit", essential=True)
