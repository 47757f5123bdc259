"""Backhaul's built-in plugins. Each is discovered through the ``backhaul.plugins`` entry point."""
