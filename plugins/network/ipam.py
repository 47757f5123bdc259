"""IP address management: subnets in a hierarchy, pools, assignments with history.

Arithmetic is the standard library's ``ipaddress``. Every refusal is a field error
(``ValidationError``) raised before anything is written. Allocation is safe under concurrent
requests: on PostgreSQL the pool's row is locked (``FOR UPDATE``) for the transaction, so
two requests for the next free address of one pool are served one after the other; SQLite
has a single writer anyway.
"""
from __future__ import annotations

import ipaddress
from datetime import datetime

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db, utcnow

from .models import POOL_KINDS, Assignment, Subnet

#: a pool larger than this is not scanned address by address (use a smaller pool)
MAX_SCAN = 1 << 16


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def parse_network(cidr: str, field: str = "cidr") -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=True)
    except ValueError as exc:
        raise invalid(field, f"'{cidr}' is not a network in CIDR form such as 100.64.1.0/24 "
                             f"({exc})") from None


def create_subnet(cidr: str, kind: str = "static", *, site_id: int | None = None,
                  device_id: int | None = None, description: str = "",
                  delegated_length: int | None = None) -> Subnet:
    """Add a prefix. Its parent is the smallest existing prefix containing it; a prefix that
    overlaps another without nesting is refused, as is a duplicate. A ``pd`` pool (IPv6
    prefix delegation) hands out prefixes of ``delegated_length`` bits."""
    network = parse_network(cidr)
    if kind not in POOL_KINDS:
        raise invalid("kind", f"must be one of {', '.join(POOL_KINDS)}")
    if kind == "pd":
        if network.version != 6:
            raise invalid("kind", "prefix delegation is for IPv6 pools")
        if delegated_length is None or not (
                network.prefixlen < int(delegated_length) <= 64):
            raise invalid("delegatedLength", f"between /{network.prefixlen + 1} and /64 for "
                                             f"{network}")
        delegated_length = int(delegated_length)
    elif delegated_length is not None:
        raise invalid("delegatedLength", "only a prefix-delegation (pd) pool has one")
    parent = None
    for other in db.session.scalars(sa.select(Subnet)):
        theirs = ipaddress.ip_network(other.cidr)
        if theirs.version != network.version or not theirs.overlaps(network):
            continue
        if theirs == network:
            raise invalid("cidr", f"{network} exists already")
        if network.subnet_of(theirs):
            if parent is None or theirs.subnet_of(ipaddress.ip_network(parent.cidr)):
                parent = other
        elif theirs.subnet_of(network):
            if kind != "supernet":
                raise invalid("cidr", f"{network} would contain the existing {theirs}: "
                                      "only a supernet may")
        else:
            raise invalid("cidr", f"{network} overlaps {theirs}")
    subnet = Subnet(cidr=str(network), kind=kind, site_id=site_id, device_id=device_id,
                    parent_id=parent.id if parent else None, description=description[:200],
                    delegated_length=delegated_length)
    db.session.add(subnet)
    db.session.flush()
    return subnet


def _held(subnet_id: int) -> set[str]:
    return set(db.session.scalars(sa.select(Assignment.address).where(
        Assignment.subnet_id == subnet_id, Assignment.valid_to.is_(None))))


def _lock(subnet: Subnet) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Subnet.id).where(Subnet.id == subnet.id).with_for_update())


def usable(network, delegated_length: int | None = None) -> int:
    """Addresses (or delegated prefixes) a pool can hand out (IPv4: without network and
    broadcast, above /31)."""
    if delegated_length:
        return 1 << (delegated_length - network.prefixlen)
    if network.version == 4 and network.prefixlen < 31:
        return network.num_addresses - 2
    return network.num_addresses


def assign(subscription_id: int, subnet: Subnet, address: str | None = None) -> Assignment:
    """Give ``subscription_id`` an address of ``subnet`` (the next free one when ``address``
    is None). Refused: a supernet, an address outside the pool, the network or broadcast
    address, an address held by another service, and an exhausted pool."""
    if subnet.kind == "supernet":
        raise invalid("subnetId", f"{subnet.cidr} is a supernet: assign from one of its pools")
    network = ipaddress.ip_network(subnet.cidr)
    _lock(subnet)
    if subnet.kind == "pd":
        chosen = _delegate(network, subnet.delegated_length, _held(subnet.id), address)
    elif address is not None:
        try:
            ip = ipaddress.ip_address(str(address).strip())
        except ValueError:
            raise invalid("address", f"'{address}' is not an IP address") from None
        if ip not in network:
            raise invalid("address", f"{ip} is outside the pool {network}")
        if network.version == 4 and network.prefixlen < 31 and ip in (
                network.network_address, network.broadcast_address):
            raise invalid("address", f"{ip} is the pool's network or broadcast address")
        chosen = str(ip)  # whether another service holds it: checked below, by one query
    else:
        chosen = _next_free(network, _held(subnet.id))
        if chosen is None:
            raise invalid("subnetId", f"the pool {network} is exhausted")
    if subnet.kind != "pd" and db.session.scalar(sa.select(Assignment.id).where(
            Assignment.address == chosen, Assignment.valid_to.is_(None))):
        raise invalid("address", f"{chosen} is assigned to another service")
    row = Assignment(subnet_id=subnet.id, subscription_id=subscription_id, address=chosen,
                     valid_from=utcnow())
    db.session.add(row)
    db.session.flush()
    _devices_follow(subscription_id)
    _alert_if_nearly_full(subnet, network)
    return row


def _alert_if_nearly_full(subnet: Subnet, network) -> None:
    """At ``utilisation_alert_percent`` (90 %) of a pool, e-mail ``alert_email`` through the
    notifications plugin — once a day per pool while it stays that full."""
    from backhaul.sdk import current_plugin_settings

    settings = current_plugin_settings("network")
    if not settings.get("alert_email"):
        return
    held = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.subnet_id == subnet.id, Assignment.valid_to.is_(None))) or 0
    size = usable(network, subnet.delegated_length)
    percent = settings["utilisation_alert_percent"]
    if held * 100 < size * percent:
        return
    try:
        from backhaul.plugins.notifications.api import send_email
    except ImportError:  # the notifications plugin is not installed
        return
    today = utcnow().date().isoformat()
    send_email(settings["alert_email"], f"Pool {subnet.cidr} is {held * 100 // size}% full",
               f"The {subnet.kind} pool {subnet.cidr} holds {held} of {size} "
               f"{'prefixes' if subnet.kind == 'pd' else 'addresses'} "
               f"(alert at {percent}%). Add a pool or free addresses before it runs out.\n",
               source="network.pool_alert", category="service",
               dedupe_key=f"network.pool:{subnet.id}:{today}")


def _devices_follow(subscription_id: int) -> None:
    """A new or released address reaches the service's devices by a job, within seconds."""
    from .reconcile import enqueue_for_subscriptions

    enqueue_for_subscriptions({subscription_id})


def _delegate(network, length: int, held: set[str], wanted: str | None) -> str:
    """A prefix of ``length`` bits from the pool: ``wanted`` if free and aligned, else the
    first free one."""
    if wanted is not None:
        try:
            prefix = ipaddress.ip_network(str(wanted).strip(), strict=True)
        except ValueError:
            raise invalid("address", f"'{wanted}' is not a prefix such as "
                                     f"{next(network.subnets(new_prefix=length))}") from None
        if prefix.prefixlen != length or not prefix.subnet_of(network):
            raise invalid("address", f"{prefix} is not a /{length} of {network}")
        if str(prefix) in held:
            raise invalid("address", f"{prefix} is delegated to another service")
        return str(prefix)
    for count, prefix in enumerate(network.subnets(new_prefix=length)):
        if count >= MAX_SCAN:
            break
        if str(prefix) not in held:
            return str(prefix)
    raise invalid("subnetId", f"the pool {network} is exhausted")


def _next_free(network, held: set[str]) -> str | None:
    for count, ip in enumerate(network.hosts() if network.version == 4 else network):
        if count >= MAX_SCAN:
            return None
        if str(ip) not in held:
            return str(ip)
    return None


def release(subscription_id: int, at: datetime | None = None) -> int:
    """End every address the service holds (history keeps them). Returns how many."""
    rows = db.session.scalars(sa.select(Assignment).where(
        Assignment.subscription_id == subscription_id, Assignment.valid_to.is_(None))).all()
    for row in rows:
        row.valid_to = at or utcnow()
    db.session.flush()
    if rows:
        _devices_follow(subscription_id)
    return len(rows)


def holder_of(address: str, at: datetime) -> int | None:
    """The service (subscription id) that held ``address`` at ``at`` — the address itself,
    or (IPv6) a delegated prefix containing it — or None."""
    parsed = ipaddress.ip_address(str(address).strip())
    candidates = [str(parsed)]
    if parsed.version == 6:
        lengths = set(db.session.scalars(sa.select(Subnet.delegated_length).where(
            Subnet.kind == "pd")))
        candidates += [str(ipaddress.ip_network((parsed, n), strict=False))
                       for n in lengths if n]
    return db.session.scalar(sa.select(Assignment.subscription_id).where(
        Assignment.address.in_(candidates), Assignment.valid_from <= at,
        sa.or_(Assignment.valid_to.is_(None), Assignment.valid_to > at))
        .order_by(Assignment.valid_from.desc()).limit(1))


def utilisation(subnet: Subnet) -> tuple[int, int]:
    """``(held, usable)`` of a pool."""
    return len(_held(subnet.id)), usable(ipaddress.ip_network(subnet.cidr),
                                         subnet.delegated_length)
