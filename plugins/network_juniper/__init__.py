"""Juniper Junos provisioning: a desired-state backend through NAPALM's ``junos`` driver.

Contributes the ``juniper.junos`` provisioning backend (``backend.py``) through the
``provisioning_backends`` hook: per-subscriber policers, filters, the delinquent prefix list
and business VLAN units, all inside one configuration group Backhaul owns, committed with
commit confirmed. The network plugin stores the devices and runs render/read/diff/apply;
this plugin only talks to devices. No tables, no pages of its own.
"""
from __future__ import annotations

from backhaul.sdk import PluginMeta, hookimpl

META = PluginMeta(
    name="network_juniper",
    description="Juniper Junos provisioning backend (NAPALM/NETCONF: policers, filters, "
                "delinquent prefix list, business VLANs; commit confirmed)",
    requires_sdk=">=1.0,<2",
)


@hookimpl
def provisioning_backends():
    from .backend import JunosBackend

    return [JunosBackend()]
