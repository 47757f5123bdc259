"""The network plugin's published API (declare ``depends_on=("network",)``): what RADIUS,
the MikroTik/Juniper backends and the usage plugin read. Plain values only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from backhaul.sdk import db
from backhaul.sdk.instances import decrypt_json
from backhaul.sdk.provisioning import DesiredState, DeviceRef, Secret, Subscriber

from . import desired, ipam
from .models import Assignment, Credential, Device


def devices() -> list[DeviceRef]:
    return [desired.device_ref(d) for d in db.session.scalars(sa.select(Device).order_by(
        Device.id))]


def device(device_id: int) -> DeviceRef | None:
    row = db.session.get(Device, device_id)
    return desired.device_ref(row) if row else None


@dataclass(frozen=True)
class Nas:
    """A network access server as RADIUS sees it: the device and its shared secret."""

    device: DeviceRef
    secret: Secret


def nas_for_address(address: str) -> Nas | None:
    """The device whose management address is ``address`` (a RADIUS request's source), with
    its RADIUS shared secret; None for an unknown address (the request is dropped)."""
    row = db.session.scalar(sa.select(Device).where(Device.host == address.strip()))
    if row is None:
        return None
    return Nas(desired.device_ref(row), Secret(decrypt_json(row.secrets).get("radius_secret")))


device_for_address = nas_for_address  # the name the network issue uses


def desired_state(device_id: int) -> DesiredState:
    return desired.desired_state(device_id)


def _subscriber_of(credential: Credential | None) -> Subscriber | None:
    if credential is None or credential.device_id is None:
        return None
    state = desired.desired_state(credential.device_id, {credential.subscription_id})
    return state.subscribers[0] if state.subscribers else None


def subscriber_for_username(username: str) -> Subscriber | None:
    """The desired state of the service logging in as ``username`` (its password as a
    ``Secret`` for PAP and CHAP); None when unknown or not allowed on the network."""
    return _subscriber_of(db.session.scalar(sa.select(Credential).where(
        Credential.username == username)))


def subscriber_for_mac(mac: str) -> Subscriber | None:
    from .credentials import normal_mac

    return _subscriber_of(db.session.scalar(sa.select(Credential).where(
        Credential.mac == normal_mac(mac))))


def holder_of_address(address: str, at: datetime) -> int | None:
    """The data service (subscription id) that held ``address`` at ``at`` (abuse reports,
    NetFlow attribution)."""
    return ipam.holder_of(address, at)


def address_history(addresses) -> dict[str, list[tuple[int, datetime, datetime | None]]]:
    """Every holding of each of ``addresses`` in one query, for bulk attribution (a NetFlow
    collector resolves flow times itself): ``{address: [(subscription id, valid_from,
    valid_to or None)]}``; an address never held is absent. Exact addresses only: an IPv6
    address inside a delegated prefix needs :func:`holder_of_address`."""
    wanted = sorted({str(a) for a in addresses})
    out: dict[str, list] = {}
    postgres = db.session.get_bind().dialect.name == "postgresql"
    step = 20_000 if postgres else 1000
    for at in range(0, len(wanted), step):
        chunk = wanted[at:at + step]
        # PostgreSQL: one array parameter (= ANY) rather than thousands of placeholders,
        # which cost more to build and parse than the query costs to run
        match = (Assignment.address == sa.any_(sa.bindparam(
            "addresses", chunk, type_=postgresql.ARRAY(sa.String()))) if postgres
            else Assignment.address.in_(chunk))
        rows = db.session.execute(sa.select(
            Assignment.address, Assignment.subscription_id, Assignment.valid_from,
            Assignment.valid_to).where(match).order_by(Assignment.valid_from.desc()))
        for address, subscription_id, valid_from, valid_to in rows:
            out.setdefault(address, []).append((subscription_id, valid_from, valid_to))
    return out


__all__ = ["Nas", "address_history", "desired_state", "logins_of_account", "radius_clients", "device", "device_for_address", "devices",
           "holder_of_address", "nas_for_address", "reconcile_subscribers", "subscriber_for_mac", "subscriber_for_username"]


def radius_clients() -> list[Nas]:
    """Every device with a RADIUS shared secret, by its management address (RADIUS servers
    load them all at once and keep them in memory)."""
    out = []
    for row in db.session.scalars(sa.select(Device).where(Device.host != "").order_by(
            Device.id)):
        secret = decrypt_json(row.secrets).get("radius_secret")
        if secret:
            out.append(Nas(desired.device_ref(row), Secret(secret)))
    return out


def logins_of_account(account_id: int) -> list[str]:
    """The PPPoE/hotspot logins of an account's data services."""
    return list(db.session.scalars(sa.select(Credential.username).where(
        Credential.account_id == account_id, Credential.username.is_not(None))))


@dataclass(frozen=True)
class PollTarget:
    """A device as a monitoring poller sees it: where to reach it, its role and site."""

    id: int
    name: str
    host: str
    role: str
    site_id: int | None
    site_name: str | None


def devices_for_polling() -> list[PollTarget]:
    """Every device with an address (host), with its role and site (the poller's input)."""
    from .models import Site

    rows = db.session.execute(sa.select(Device, Site.name).outerjoin(
        Site, Site.id == Device.site_id).where(Device.host != "").order_by(Device.id))
    return [PollTarget(d.id, d.name, d.host, d.role, d.site_id, site) for d, site in rows]


def accounts_on_device(device_id: int) -> list[tuple[int, int]]:
    """(account id, subscription id) of every data service routed to ``device_id`` through
    its credential: the services that lose their link when the device is down (the
    poller's "accounts affected")."""
    return [tuple(r) for r in db.session.execute(
        sa.select(Credential.account_id, Credential.subscription_id).where(
            Credential.device_id == device_id).order_by(Credential.account_id,
                                                        Credential.subscription_id))]


def reconcile_subscribers(subscription_ids) -> int:
    """Bring these data services in step after something outside the network plugin changed
    their desired state (e.g. a ``network_desired_overrides`` answer started or ended): one
    reconcile job per device they use, and ``network_subscribers_changed`` (RADIUS forgets
    its answers and sends CoA). Inside the caller's transaction; returns the devices."""
    from .reconcile import enqueue_for_subscriptions

    return enqueue_for_subscriptions({int(s) for s in subscription_ids})
