"""The RADIUS source: accounting updates (Backhaul's RADIUS server and FreeRADIUS's radacct
pickup) arrive through the radius plugin's ``radius_usage`` hook, inside the transaction
that recorded them; their deltas go straight into the rollups in that same transaction (so
a rolled-back accounting packet adds nothing), and the caps are checked."""
from __future__ import annotations

from . import caps, rollup


def record(usages) -> set[int]:
    deltas = [rollup.Delta(u.subscription_id, u.at, int(u.output_octets),
                           int(u.input_octets), "radius")
              for u in usages if u.subscription_id is not None]
    services = rollup.add(deltas)
    if services:
        caps.check(services)
    return services
