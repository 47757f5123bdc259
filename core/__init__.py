"""Backhaul's core: the framework that plugins plug into, and the account kernel."""

__version__ = "0.1.0"
