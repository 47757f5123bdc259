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

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LastAuth(db.Model):
    """The last authentication of a login: when, from which NAS, accepted or why not."""

    __tablename__ = "radius_last_auth"

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(index=True)
    device_id: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
