"""Placeholder."""
from backhaul.sdk import PluginMeta

META = PluginMeta(name="example", description="An example plugin")
