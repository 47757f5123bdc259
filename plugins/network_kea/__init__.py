"""ISC Kea as a provisioning target: DHCP reservations in Kea's PostgreSQL host backend.

A Kea server is a network device whose backend is ``kea.pgsql``: its host, port, username and
password are those of the PostgreSQL database Kea reads (``hosts-database``), and its settings
name the database and map Backhaul's subnets to Kea's ``subnet4`` ids. The backend writes
reservations (MAC or option-82 circuit-id -> address) straight into Kea's own schema (created
with ``kea-admin db-init pgsql``) and reads the leases Kea wrote back, so each service shows
the address its equipment actually got. See ``backend.py``.
"""
from __future__ import annotations

from backhaul.sdk import PluginMeta, hookimpl

META = PluginMeta(name="network_kea", depends_on=("network",),
                  description="DHCP reservations and leases through ISC Kea's PostgreSQL "
                              "host backend")


@hookimpl
def provisioning_backends():
    from .backend import KeaBackend

    return [KeaBackend()]
