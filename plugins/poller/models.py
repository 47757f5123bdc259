"""The poller's tables: templates, where they apply, per-target state, metric samples."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import UTCDateTime, db

TS = UTCDateTime()


class Template(db.Model):
    """What to poll on a device: ICMP (count, interval, timeout) and SNMP v2c OIDs.

    ``oids``: a list of ``{"name", "oid", "type": gauge|counter|string, "unit", "warning",
    "critical", "hysteresis"}`` (thresholds optional; a level clears only once the value is
    back below ``threshold - hysteresis``)."""

    __tablename__ = "poller_template"
    #: ``encrypt_json`` tokens: re-encrypted by ``backhaul secrets rotate``, audited as "***"
    __sealed__ = ("secrets",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    interval: Mapped[int] = mapped_column(default=60)
    icmp_enabled: Mapped[bool] = mapped_column(default=True)
    icmp_count: Mapped[int] = mapped_column(default=3)
    icmp_interval: Mapped[float] = mapped_column(sa.Float, default=0.2)
    icmp_timeout: Mapped[float] = mapped_column(sa.Float, default=1.0)
    #: loss (percent) and average latency (ms) that make the device "warning"
    loss_warning: Mapped[float] = mapped_column(sa.Float, default=20.0)
    rtt_warning: Mapped[float] = mapped_column(sa.Float, default=200.0)
    snmp_enabled: Mapped[bool] = mapped_column(default=False)
    snmp_port: Mapped[int] = mapped_column(default=161)
    snmp_timeout: Mapped[float] = mapped_column(sa.Float, default=1.0)
    oids: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: walk ifXTable/ifTable: per-interface in/out bit/s (64-bit HC counters when present)
    snmp_interfaces: Mapped[bool] = mapped_column(default=False)
    #: "2c" (community) or "3" (USM authPriv: user, SHA-2 auth, AES privacy)
    snmp_version: Mapped[str] = mapped_column(sa.String(4), default="2c")
    v3_user: Mapped[str] = mapped_column(sa.String(64), default="")
    v3_auth: Mapped[str] = mapped_column(sa.String(16), default="SHA-256")
    v3_priv: Mapped[str] = mapped_column(sa.String(16), default="AES-128")
    #: ``encrypt_json({"community", "auth_key", "priv_key"})`` (v2c community, SNMPv3 keys):
    #: sealed at rest, never shown back, audited as "***"
    secrets: Mapped[str] = mapped_column(sa.Text, default="")

    def sealed(self) -> dict:
        """The community and v3 keys, decrypted (``{}`` when none or unreadable)."""
        from backhaul.sdk.instances import SecretsUnreadable, decrypt_json

        try:
            return decrypt_json(self.secrets) if self.secrets else {}
        except SecretsUnreadable:
            return {}


class Applied(db.Model):
    """A template applied to a device role, one device, or an inventory model."""

    __tablename__ = "poller_applied"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("poller_template.id",
                                                          ondelete="CASCADE"))
    #: "role" (value: the role), "device" (the device id), "model" ("Manufacturer Model")
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str] = mapped_column(sa.String(200))


class TargetState(db.Model):
    """A polled target's current state and what the next poll needs (last counters)."""

    __tablename__ = "poller_state"

    #: "device:7" or "item:12"
    target: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    state: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    #: the state computed from the last poll alone (flap detection compares these)
    raw_state: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    changed_at: Mapped[datetime | None] = mapped_column(TS)
    polled_at: Mapped[datetime | None] = mapped_column(TS)
    loss: Mapped[float | None] = mapped_column(sa.Float)
    rtt_ms: Mapped[float | None] = mapped_column(sa.Float)
    #: {metric: "ok"|"warning"|"critical"}
    levels: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: {metric: [raw value, unix time]}
    counters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: unix times of recent raw state changes (bounded)
    flips: Mapped[list] = mapped_column(sa.JSON, default=list)


class Sample(db.Model):
    """One metric value of one target at one time (kept ``retention_days``)."""

    __tablename__ = "poller_sample"
    __table_args__ = (sa.Index("ix_poller_sample_target_metric_at", "target", "metric", "at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(40))
    metric: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(TS)
    value: Mapped[float | None] = mapped_column(sa.Float)
    text: Mapped[str | None] = mapped_column(sa.String(255))
    #: 0: as polled; 300 / 3600: the average of the 5-minute / hour starting at ``at``
    resolution: Mapped[int] = mapped_column(default=0, server_default="0")


class Affected(db.Model):
    """An account whose data services run through a device that is down (one row per
    device and account, from the poll that saw it go down until the one that saw it back)."""

    __tablename__ = "poller_affected"
    __table_args__ = (sa.UniqueConstraint("target", "account_id", name="uq_poller_affected"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(40))
    account_id: Mapped[int] = mapped_column(index=True)
    #: the subscription ids routed through the device
    subscriptions: Mapped[list] = mapped_column(sa.JSON, default=list)
    since: Mapped[datetime] = mapped_column(TS)
    #: when the outage notice went to the account's contacts (once per outage)
    notified_at: Mapped[datetime | None] = mapped_column(TS)


class Host(db.Model):
    """A host that answered ICMP on a scanned subnet (discovery); polled as
    ``host:<address>`` by the templates applied to the subnet."""

    __tablename__ = "poller_host"

    address: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    subnet: Mapped[str] = mapped_column(sa.String(50))
    first_seen: Mapped[datetime] = mapped_column(TS)
    last_seen: Mapped[datetime] = mapped_column(TS)
    rtt_ms: Mapped[float | None] = mapped_column(sa.Float)
