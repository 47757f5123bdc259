"""The RADIUS plugin's tables (prefix ``radius_``); migration ``radius_0001``.

Sessions are keyed by the NAS and its Acct-Session-Id; their byte totals only ever grow
(a retransmitted or out-of-order update cannot count twice). Invalidations tell every
running RADIUS process which subscribers' cached answers to forget.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import UTCDateTime, db


class NasSettings(db.Model):
    """Per-NAS RADIUS options (the NAS itself is a network device with a shared secret)."""

    __tablename__ = "radius_nas"

    device_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    coa_port: Mapped[int] = mapped_column(default=3799)
    #: off only for old equipment that cannot send Message-Authenticator (BlastRADIUS)
    require_message_authenticator: Mapped[bool] = mapped_column(default=True)
    #: which vendor attributes replies carry: mikrotik, juniper, or standard only
    dialect: Mapped[str] = mapped_column(sa.String(16), default="mikrotik")


class Session(db.Model):
    __tablename__ = "radius_session"
    __audit__ = False  # operational data written per packet/sync; audited actions are
                       # the staff's (NAS options, disconnects) and the devices' changes
    __table_args__ = (sa.UniqueConstraint("device_id", "acct_session_id",
                                          name="uq_radius_session_nas_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(index=True)
    acct_session_id: Mapped[str] = mapped_column(sa.String(64))
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    subscription_id: Mapped[int | None] = mapped_column(index=True)
    account_id: Mapped[int | None] = mapped_column(index=True)
    framed_ip: Mapped[str | None] = mapped_column(sa.String(64))
    calling_station: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: bytes from the subscriber (Acct-Input-*) and to it, 64-bit with Gigawords
    input_octets: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    output_octets: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    session_time: Mapped[int] = mapped_column(default=0)
    terminate_cause: Mapped[int | None] = mapped_column()
    #: "radius" (our server) or "freeradius" (rows FreeRADIUS wrote to radius_radacct)
    source: Mapped[str] = mapped_column(sa.String(16), default="radius")
    #: the last CoA/Disconnect sent for this session: "ack", "nak: ...", "timeout"
    coa_result: Mapped[str | None] = mapped_column(sa.String(200))


class Invalidation(db.Model):
    """A subscriber whose cached RADIUS answer is stale (written with the change)."""

    __tablename__ = "radius_invalidation"
    __audit__ = False  # operational data written per packet/sync; audited actions are
                       # the staff's (NAS options, disconnects) and the devices' changes

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LastAuth(db.Model):
    """The last authentication of a login: when, from which NAS, accepted or why not."""

    __tablename__ = "radius_last_auth"
    __audit__ = False  # operational data written per packet/sync; audited actions are
                       # the staff's (NAS options, disconnects) and the devices' changes

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(index=True)
    device_id: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


# ------------------------------------------------------------------ FreeRADIUS (rlm_sql)
# The layout FreeRADIUS's rlm_sql reads and writes (its postgresql schema.sql), under
# Backhaul's table names (set as authcheck_table... in the shipped sql module config). The
# extra ``subscription_id`` column lets a sync replace one service's rows; FreeRADIUS never
# selects it.
from sqlalchemy.dialects import postgresql as _pg  # noqa: E402

INET = sa.String(64).with_variant(_pg.INET(), "postgresql")


class _AttributeRow:
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.Text, default="", index=True)
    attribute: Mapped[str] = mapped_column(sa.Text, default="")
    op: Mapped[str] = mapped_column(sa.String(2), default="=")
    value: Mapped[str] = mapped_column(sa.Text, default="")
    subscription_id: Mapped[int | None] = mapped_column(index=True)


class FrCheck(_AttributeRow, db.Model):
    __tablename__ = "radius_fr_check"
    __audit__ = False  # a projection of credentials for FreeRADIUS, rewritten by syncs


class FrReply(_AttributeRow, db.Model):
    __tablename__ = "radius_fr_reply"
    __audit__ = False


class FrNas(db.Model):
    __tablename__ = "radius_fr_nas"
    __audit__ = False  # operational data written per packet/sync; audited actions are
                       # the staff's (NAS options, disconnects) and the devices' changes

    id: Mapped[int] = mapped_column(primary_key=True)
    nasname: Mapped[str] = mapped_column(sa.Text)
    shortname: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.Text, default="other")
    ports: Mapped[int | None] = mapped_column()
    secret: Mapped[str] = mapped_column(sa.Text)
    server: Mapped[str | None] = mapped_column(sa.Text)
    community: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)


class FrAcct(db.Model):
    """FreeRADIUS writes here (its radacct); a job turns rows into Backhaul sessions."""

    __tablename__ = "radius_fr_acct"
    __audit__ = False  # operational data written per packet/sync; audited actions are
                       # the staff's (NAS options, disconnects) and the devices' changes

    radacctid: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                           primary_key=True)
    acctsessionid: Mapped[str] = mapped_column(sa.Text)
    acctuniqueid: Mapped[str] = mapped_column(sa.Text, unique=True)
    username: Mapped[str | None] = mapped_column(sa.Text)
    realm: Mapped[str | None] = mapped_column(sa.Text)
    nasipaddress: Mapped[str] = mapped_column(INET)
    nasportid: Mapped[str | None] = mapped_column(sa.Text)
    nasporttype: Mapped[str | None] = mapped_column(sa.Text)
    acctstarttime: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    acctupdatetime: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True),
                                                            index=True)
    acctstoptime: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    acctinterval: Mapped[int | None] = mapped_column(sa.BigInteger)
    acctsessiontime: Mapped[int | None] = mapped_column(sa.BigInteger)
    acctauthentic: Mapped[str | None] = mapped_column(sa.Text)
    connectinfo_start: Mapped[str | None] = mapped_column(sa.Text)
    connectinfo_stop: Mapped[str | None] = mapped_column(sa.Text)
    acctinputoctets: Mapped[int | None] = mapped_column(sa.BigInteger)
    acctoutputoctets: Mapped[int | None] = mapped_column(sa.BigInteger)
    calledstationid: Mapped[str | None] = mapped_column(sa.Text)
    callingstationid: Mapped[str | None] = mapped_column(sa.Text)
    acctterminatecause: Mapped[str | None] = mapped_column(sa.Text)
    servicetype: Mapped[str | None] = mapped_column(sa.Text)
    framedprotocol: Mapped[str | None] = mapped_column(sa.Text)
    framedipaddress: Mapped[str | None] = mapped_column(INET)
    framedipv6address: Mapped[str | None] = mapped_column(INET)
    framedipv6prefix: Mapped[str | None] = mapped_column(INET)
    framedinterfaceid: Mapped[str | None] = mapped_column(sa.Text)
    delegatedipv6prefix: Mapped[str | None] = mapped_column(INET)
    # "class" is a Python keyword: the column keeps FreeRADIUS's name
    class_: Mapped[str | None] = mapped_column("class", sa.Text)
