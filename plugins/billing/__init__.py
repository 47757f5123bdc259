"""The billing plugin (in progress)."""
from backhaul.sdk import PluginMeta

META = PluginMeta(name="billing", description="billing")
