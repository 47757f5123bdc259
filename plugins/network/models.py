"""The network plugin's tables (prefix ``network_``); migration ``network_0001``.

Device credentials and subscriber passwords are sealed with the SDK's secrets keys
(``encrypt_json``): a copy of the database alone reveals none of them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import TimestampMixin, UTCDateTime, db

POOL_KINDS = ("supernet", "pppoe", "dhcp", "static", "pd")


class Site(TimestampMixin, db.Model):
    """A building, a tower, a POP."""

    __tablename__ = "network_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)


class Device(TimestampMixin, db.Model):
    """A managed device and the provisioning backend that manages it."""

    __tablename__ = "network_device"
    #: ``encrypt_json`` tokens: re-encrypted by ``backhaul secrets rotate``, audited as "***"
    __sealed__ = ("secrets",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("network_site.id"))
    role: Mapped[str] = mapped_column(sa.String(32), default="router")
    vendor: Mapped[str] = mapped_column(sa.String(64), default="")
    backend: Mapped[str] = mapped_column(sa.String(100))
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    port: Mapped[int | None] = mapped_column()
    username: Mapped[str] = mapped_column(sa.String(100), default="")
    #: ``encrypt_json({"password": ..., "radius_secret": ...})``
    secrets: Mapped[str] = mapped_column(sa.Text, default="")
    #: the backend's own, non-secret settings (validated by its settings_schema)
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    last_reconcile_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: what the device said about itself on the last "test connection" (model, version...)
    facts: Mapped[dict | None] = mapped_column(sa.JSON)


class Subnet(TimestampMixin, db.Model):
    """A prefix: a supernet, or a pool (PPPoE, DHCP, static) served by a device."""

    __tablename__ = "network_subnet"

    id: Mapped[int] = mapped_column(primary_key=True)
    cidr: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="static")
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("network_site.id"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("network_subnet.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("network_device.id"))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: a prefix-delegation pool ("pd", IPv6) hands out prefixes of this length (e.g. 56)
    delegated_length: Mapped[int | None] = mapped_column()


class Assignment(db.Model):
    """An address (or a delegated IPv6 prefix, ``2001:db8:1:100::/56``) held by a data service from ``valid_from`` until ``valid_to`` (exclusive;
    ``None``: still held). Rows are never deleted: they are the address history."""

    __tablename__ = "network_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    subnet_id: Mapped[int] = mapped_column(sa.ForeignKey("network_subnet.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Credential(TimestampMixin, db.Model):
    """How a data service authenticates: PPPoE/hotspot login and DHCP identity."""

    __tablename__ = "network_credential"
    #: ``encrypt_json`` tokens: re-encrypted by ``backhaul secrets rotate``, audited as "***"
    __sealed__ = ("secret",)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(unique=True)
    #: the service's account (from billing), so an account's event finds its services
    account_id: Mapped[int] = mapped_column(index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("network_device.id"),
                                                  index=True)
    username: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: ``encrypt_json({"password": ...})``: reversible, so PAP and CHAP can both be answered
    secret: Mapped[str] = mapped_column(sa.Text, default="")
    mac: Mapped[str | None] = mapped_column(sa.String(17), unique=True)
    circuit_id: Mapped[str | None] = mapped_column(sa.String(100))
    remote_id: Mapped[str | None] = mapped_column(sa.String(100))
    #: a business service's VLAN (802.1Q id) on its device: an interface unit on Junos
    vlan: Mapped[int | None] = mapped_column()


class Reconcile(db.Model):
    """One reconcile (or dry run) of one device: what differed, what was applied, errors."""

    __tablename__ = "network_reconcile"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("network_device.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    dry_run: Mapped[bool] = mapped_column(default=False)
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)
    applied: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)


class PendingReconcile(db.Model):
    """A service waiting to be reconciled on a device. Business events add rows (and a job);
    the first job to run for the device takes every row there is, so a night of delinquency
    reaches a router as a few jobs carrying many services, not one login per account."""

    __tablename__ = "network_reconcile_pending"
    __audit__ = False  # bookkeeping between an event and its job

    device_id: Mapped[int] = mapped_column(sa.ForeignKey("network_device.id"),
                                           primary_key=True)
    subscription_id: Mapped[int] = mapped_column(primary_key=True)


class Lease(db.Model):
    """An address a device reports it handed out to a service (a DHCP lease, read back by
    backends that can see them, e.g. Kea's lease table), refreshed on every reconcile."""

    __tablename__ = "network_lease"
    __audit__ = False  # what a DHCP server reported, refreshed on every reconcile

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("network_device.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(sa.String(64))
    mac: Mapped[str | None] = mapped_column(sa.String(17))
    hostname: Mapped[str | None] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
