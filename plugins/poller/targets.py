"""What to poll: network devices and inventory items with an address, each with the
templates applied to it (single device > role; inventory model)."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from backhaul.sdk import db

from .models import Applied, Template


@dataclass(frozen=True)
class TemplateSpec:
    """A template as plain values (the loop does not touch ORM rows off the main path)."""

    id: int
    name: str
    interval: int
    icmp_enabled: bool
    icmp_count: int
    icmp_interval: float
    icmp_timeout: float
    loss_warning: float
    rtt_warning: float
    snmp_enabled: bool
    snmp_community: str
    snmp_port: int
    snmp_timeout: float
    oids: tuple = ()
    interfaces: bool = False
    version: str = "2c"
    #: SNMPv3: (user, auth protocol, auth key, priv protocol, priv key); keys decrypted
    usm: tuple | None = field(default=None, repr=False)

    @classmethod
    def of(cls, row: Template) -> TemplateSpec:
        usm = None
        keys = row.sealed()
        if row.snmp_version == "3":
            usm = (row.v3_user, row.v3_auth, keys.get("auth_key", ""), row.v3_priv,
                   keys.get("priv_key", ""))
        return cls(row.id, row.name, row.interval, row.icmp_enabled, row.icmp_count,
                   row.icmp_interval, row.icmp_timeout, row.loss_warning, row.rtt_warning,
                   row.snmp_enabled, keys.get("community", ""), row.snmp_port, row.snmp_timeout,
                   tuple(dict(o) for o in row.oids or ()), bool(row.snmp_interfaces),
                   row.snmp_version or "2c", usm)


@dataclass(frozen=True)
class Target:
    key: str  # "device:7", "item:12"
    name: str
    host: str
    site: str | None
    templates: tuple[TemplateSpec, ...] = field(default_factory=tuple)

    @property
    def interval(self) -> int:
        return min((t.interval for t in self.templates), default=60)


def load_targets() -> list[Target]:
    """Every target with at least one template applied."""
    templates = {t.id: TemplateSpec.of(t) for t in db.session.scalars(sa.select(Template))}
    by: dict[tuple[str, str], list[TemplateSpec]] = {}
    for row in db.session.scalars(sa.select(Applied).order_by(Applied.id)):
        if row.template_id in templates:
            by.setdefault((row.kind, row.value), []).append(templates[row.template_id])
    found = []
    from backhaul.plugins.network.api import devices_for_polling

    for dev in devices_for_polling():
        chosen = by.get(("device", str(dev.id))) or by.get(("role", dev.role)) or []
        if chosen:
            found.append(Target(f"device:{dev.id}", dev.name, dev.host, dev.site_name,
                                tuple(chosen)))
    from backhaul.sdk import plugin_enabled

    if plugin_enabled("inventory"):
        from backhaul.plugins.inventory.api import items_for_polling

        for item in items_for_polling():
            chosen = by.get(("model", f"{item.manufacturer} {item.model}")) or []
            if chosen:
                found.append(Target(f"item:{item.id}", f"{item.manufacturer} {item.model} "
                                    f"#{item.id}", item.management_address, None,
                                    tuple(chosen)))
    found += _discovered(by, {t.host for t in found})
    return found


def _discovered(by: dict, taken: set[str]) -> list[Target]:
    """Hosts found on subnets a template is applied to (not already a device's address)."""
    import ipaddress

    from .models import Host

    subnets = [(ipaddress.ip_network(v), tpls) for (k, v), tpls in by.items()
               if k == "subnet"]
    if not subnets:
        return []
    out = []
    for host in db.session.scalars(sa.select(Host).order_by(Host.address)):
        if host.address in taken:
            continue
        address = ipaddress.ip_address(host.address)
        chosen = [t for net, tpls in subnets if address in net for t in tpls]
        if chosen:
            out.append(Target(f"host:{host.address}", host.address, host.address,
                              host.subnet, tuple({t.id: t for t in chosen}.values())))
    return out
