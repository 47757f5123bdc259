"""The account kernel's tables: addresses and buildings, accounts, statuses, contacts, notes,
calls, status history and scheduled events. Every plugin attaches to these.

Addresses exist before and without accounts (pre-qualification). Which account lives at an
address is recorded in :class:`AddressOccupancy`: one *open* row (``ended_at IS NULL``) per
address at most, enforced by a partial unique index (PostgreSQL and SQLite both support them)
as well as by the domain logic, so the previous tenants' history stays intact.

The domain functions never commit: the caller (view, resolver, job) owns the transaction,
so that a failure leaves nothing half-written.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.core.db import TimestampMixin, UTCDateTime, db, utcnow

#: What the system does with an account in a status of this meaning.
STATUS_MEANINGS = ("active", "inactive", "delinquent", "prospect")
#: Notification categories a contact has preferences for.
PREFERENCE_CATEGORIES = ("billing", "outages", "jobs", "service")
PREFERENCE_CHANNELS = ("email", "sms")
NOTE_CATEGORIES = ("general", "access", "pets", "cpe_access", "billing", "technical")
ACCOUNT_TYPES = ("residential", "business", "building_owner")
EVENT_STATUSES = ("pending", "running", "done", "failed", "cancelled")

_COORD = sa.Numeric(9, 6)


class Counter(db.Model):
    """Gap-free counters (account numbers). Incremented in the caller's transaction."""

    __tablename__ = "core_counter"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class AccountStatus(TimestampMixin, db.Model):
    """A configurable status: a name and colour for people, a ``meaning`` for the system."""

    __tablename__ = "core_account_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    colour: Mapped[str] = mapped_column(sa.String(7), default="#6b7280")
    meaning: Mapped[str] = mapped_column(sa.String(16))
    is_default: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=100)

    __table_args__ = (
        sa.CheckConstraint("meaning IN ('active', 'inactive', 'delinquent', 'prospect')",
                           name="meaning"),
    )

    def __repr__(self) -> str:
        return f"<AccountStatus {self.key}>"


class Building(TimestampMixin, db.Model):
    """A multi-dwelling building: groups the addresses of its units."""

    __tablename__ = "core_building"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    street: Mapped[str] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(100))
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2))
    latitude: Mapped[Decimal | None] = mapped_column(_COORD)
    longitude: Mapped[Decimal | None] = mapped_column(_COORD)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: normalised street|city|region|postal|country: one building per street address
    key: Mapped[str] = mapped_column(sa.String(500), unique=True)

    addresses: Mapped[list[Address]] = relationship(back_populates="building",
                                                    order_by="Address.unit")

    def __repr__(self) -> str:
        return f"<Building {self.name}>"


class Address(TimestampMixin, db.Model):
    """A serviceable (or not) address; exists before and without any account."""

    __tablename__ = "core_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_building.id", ondelete="SET NULL"), index=True)
    street: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(32), default="")
    city: Mapped[str] = mapped_column(sa.String(100))
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    latitude: Mapped[Decimal | None] = mapped_column(_COORD)
    longitude: Mapped[Decimal | None] = mapped_column(_COORD)
    serviceable: Mapped[bool] = mapped_column(default=False)
    technology: Mapped[str] = mapped_column(sa.String(32), default="")
    max_down_mbps: Mapped[int | None] = mapped_column()
    max_up_mbps: Mapped[int | None] = mapped_column()
    serviceability_notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: normalised street|unit|city|region|postal|country: the duplicate detector
    key: Mapped[str] = mapped_column(sa.String(500), unique=True)

    building: Mapped[Building | None] = relationship(back_populates="addresses")
    occupancies: Mapped[list[AddressOccupancy]] = relationship(
        back_populates="address", order_by="AddressOccupancy.started_at.desc()")

    @property
    def one_line(self) -> str:
        unit = f" #{self.unit}" if self.unit else ""
        parts = [f"{self.street}{unit}", self.city, " ".join(
            p for p in (self.region, self.postal_code) if p), self.country]
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return f"<Address {self.one_line}>"


class AccountGroup(TimestampMixin, db.Model):
    """A group (tag) of accounts: 'Maple Court tenants', 'VIP', 'bulk billing'..."""

    __tablename__ = "core_account_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")


account_group_member = sa.Table(
    "core_account_group_member", db.metadata,
    sa.Column("account_id", sa.ForeignKey("core_account.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("group_id", sa.ForeignKey("core_account_group.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)


class AccountGroupMember(db.Model):
    """A membership row, mapped for batched reads (GraphQL). Change memberships through
    ``Account.groups``, never by adding these."""

    __table__ = account_group_member


class Account(TimestampMixin, db.Model):
    """A customer: a tenant, a business, or a building owner paying for units."""

    __tablename__ = "core_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    account_type: Mapped[str] = mapped_column(sa.String(32), default="residential")
    status_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account_status.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="SET NULL"), index=True)
    #: the service address; kept after a move-out (the occupancy row says when they left)
    address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_address.id", ondelete="SET NULL"), index=True)

    status: Mapped[AccountStatus] = relationship(lazy="joined")
    parent: Mapped[Account | None] = relationship(remote_side="Account.id",
                                                  back_populates="children")
    children: Mapped[list[Account]] = relationship(back_populates="parent")
    address: Mapped[Address | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="account", cascade="all, delete-orphan",
        order_by="(Contact.is_primary.desc(), Contact.id)")
    groups: Mapped[list[AccountGroup]] = relationship(secondary=account_group_member,
                                                      order_by="AccountGroup.name")

    @property
    def primary_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.is_primary), None)

    def __repr__(self) -> str:
        return f"<Account {self.number}>"


class UnitAccess(TimestampMixin, db.Model):
    """How to get into a unit (key box, gate code, superintendent...). Belongs to the address,
    not to a tenant, so it stays when tenants change."""

    __tablename__ = "core_unit_access"

    address_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_address.id", ondelete="CASCADE"), primary_key=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")


class AddressOccupancy(db.Model):
    """Who lived at an address and when. ``ended_at IS NULL`` is the current tenant."""

    __tablename__ = "core_address_occupancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(sa.ForeignKey("core_address.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id", ondelete="CASCADE"),
                                            index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str] = mapped_column(sa.String(32), default="")

    address: Mapped[Address] = relationship(back_populates="occupancies")
    account: Mapped[Account] = relationship()

    __table_args__ = (
        sa.Index("ix_core_address_occupancy_address_id", "address_id"),
        # at most one current tenant per address, and one current address per account
        sa.Index("uq_core_address_occupancy_open_address", "address_id", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL"),
                 sqlite_where=sa.text("ended_at IS NULL")),
        sa.Index("uq_core_address_occupancy_open_account", "account_id", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL"),
                 sqlite_where=sa.text("ended_at IS NULL")),
    )


class Contact(TimestampMixin, db.Model):
    """A person on an account. One is primary; any number are financial (get the invoices)."""

    __tablename__ = "core_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    is_primary: Mapped[bool] = mapped_column(default=False)
    is_financial: Mapped[bool] = mapped_column(default=False)
    portal_access: Mapped[bool] = mapped_column(default=False)
    #: {category: {"email": bool, "sms": bool}} for each of PREFERENCE_CATEGORIES
    preferences: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    account: Mapped[Account] = relationship(back_populates="contacts")

    __table_args__ = (
        sa.Index("uq_core_contact_primary", "account_id", unique=True,
                 postgresql_where=sa.text("is_primary"), sqlite_where=sa.text("is_primary")),
    )

    def wants(self, category: str, channel: str = "email") -> bool:
        return bool((self.preferences or {}).get(category, {}).get(channel, False))

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"


class Note(TimestampMixin, db.Model):
    """A staff note: Markdown source plus its sanitised HTML; pinnable to the dashboard."""

    __tablename__ = "core_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id", ondelete="CASCADE"),
                                            index=True)
    category: Mapped[str] = mapped_column(sa.String(32), default="general")
    body: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    pinned: Mapped[bool] = mapped_column(default=False)
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(sa.String(200), default="")

    account: Mapped[Account] = relationship()


class Call(TimestampMixin, db.Model):
    """One phone call with the customer."""

    __tablename__ = "core_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id", ondelete="CASCADE"),
                                            index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_contact.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(sa.String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_seconds: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(sa.Text)
    staff: Mapped[str] = mapped_column(sa.String(200), default="")

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    )


class StatusChange(db.Model):
    """The status history of an account (for the timeline and audits)."""

    __tablename__ = "core_account_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id", ondelete="CASCADE"),
                                            index=True)
    old_status: Mapped[str | None] = mapped_column(sa.String(32))
    new_status: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(64), default="manual")
    actor: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduledEvent(TimestampMixin, db.Model):
    """A future-dated action (a contributed ``ScheduledActionType``) on an account.

    Execution is exactly-once: a runner claims the row (``pending -> running`` with a lease
    and its ``claimed_by`` token) in a conditional UPDATE; the action's effect and ``done``
    commit in one transaction that first re-checks the claim; a ``running`` row whose lease
    expired (the runner died) is claimed again.
    """

    __tablename__ = "core_scheduled_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_account.id", ondelete="CASCADE"), index=True)
    address_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_address.id", ondelete="CASCADE"), index=True)
    #: for plugin targets (a subscription...): "<plugin>.<object>" and its id
    target_type: Mapped[str] = mapped_column(sa.String(64), default="account")
    target_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    created_by: Mapped[str] = mapped_column(sa.String(200), default="")
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(200))

    account: Mapped[Account | None] = relationship()
    address: Mapped[Address | None] = relationship()

    __table_args__ = (
        sa.Index("ix_core_scheduled_event_status_next", "status", "next_attempt_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed', 'cancelled')", name="status"),
    )
