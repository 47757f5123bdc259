"""MikroTik RouterOS provisioning: a desired-state backend over the RouterOS API.

Contributes the ``mikrotik.routeros`` provisioning backend (``backend.py``) through the
``provisioning_backends`` hook. The network plugin stores routers (host, username, encrypted
password, backend settings) and runs render/read/diff/apply; this plugin only talks to routers.
No tables, no pages of its own: device records, dry runs and reconcile jobs belong to the
network plugin.
"""
from __future__ import annotations

from backhaul.sdk import PluginMeta, hookimpl

META = PluginMeta(
    name="network_mikrotik",
    description="MikroTik RouterOS provisioning backend (PPP, queues, address lists, DHCP, hotspot)",
    requires_sdk=">=1.0,<2",
)


@hookimpl
def provisioning_backends():
    from .backend import RouterOSBackend

    return [RouterOSBackend()]
