"""The suite uses Backhaul's own test kit (``backhaul.sdk.testing``), like any plugin would."""
