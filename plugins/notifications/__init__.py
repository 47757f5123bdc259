"""The notifications plugin (in progress)."""
from backhaul.sdk import PluginMeta

META = PluginMeta(name="notifications", description="notifications")
