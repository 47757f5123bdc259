"""The portal's tables (prefix ``portal_``); migration ``portal_0001``.

* :class:`Login` — a contact's portal password (argon2id hash); one row per contact that
  ever set a password. Access itself is the contact's ``portal_access``.
* :class:`PortalSession` — a signed-in browser: only the SHA-256 of the cookie's token is
  stored, with idle and absolute expiry. Separate from staff sessions (another table,
  another cookie).
* :class:`Link` — an e-mailed set-password link: SHA-256 of its token, expiry, used once.
* :class:`Attempt` — sign-in and reset-request attempts, counted by the throttle.
* :class:`PortalPayment` — a payment a customer started here: written (and committed) before
  the gateway is called, its key is the gateway's idempotency key.
* :class:`Branding` — the one row of portal settings staff edit: name, logo, colours,
  support contact, and whether customers may turn auto-pay off.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import TimestampMixin, UTCDateTime, db, utcnow

CONTACT_FK = "core_contact.id"


class Login(TimestampMixin, db.Model):
    __tablename__ = "portal_login"
    __audit_secret__ = ("password_hash",)
    __audit_exclude__ = ("last_login_at",)

    contact_id: Mapped[int] = mapped_column(sa.ForeignKey(CONTACT_FK, ondelete="CASCADE"),
                                            primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PortalSession(db.Model):
    __tablename__ = "portal_session"
    __audit__ = False  # like staff sessions: one row per sign-in, bookkeeping

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the token
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey(CONTACT_FK, ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))
    ip: Mapped[str | None] = mapped_column(sa.String(45))


class Link(db.Model):
    __tablename__ = "portal_link"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the token
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey(CONTACT_FK, ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(sa.String(200), default="")


class Attempt(db.Model):
    __tablename__ = "portal_attempt"
    __audit__ = False  # like staff login attempts

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="login")  # login | reset
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    success: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(sa.String(32), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PortalPayment(TimestampMixin, db.Model):
    __tablename__ = "portal_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(CONTACT_FK, ondelete="SET NULL"))
    #: the invoice paid; None: the balance
    invoice_id: Mapped[int | None] = mapped_column()
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    #: started (gateway not answered yet), pending (the customer or bank must act),
    #: processed, error, undefined (no answer: being checked)
    status: Mapped[str] = mapped_column(sa.String(16), default="started")
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    #: where the customer confirms with their bank (3-D Secure), while pending
    action_url: Mapped[str] = mapped_column(sa.String(1000), default="")


class Branding(db.Model):
    __tablename__ = "portal_branding"
    __audit_exclude__ = ("logo",)  # the image itself is not kept twice; logo_type shows it

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    tagline: Mapped[str] = mapped_column(sa.String(200), default="")
    primary_colour: Mapped[str] = mapped_column(sa.String(7), default="#0b5cad")
    accent_colour: Mapped[str] = mapped_column(sa.String(7), default="#f29f05")
    support_email: Mapped[str] = mapped_column(sa.String(254), default="")
    support_phone: Mapped[str] = mapped_column(sa.String(30), default="")
    support_url: Mapped[str] = mapped_column(sa.String(300), default="")
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(sa.String(32))
    #: customers may not turn auto-pay off (the ISP requires it)
    autopay_locked: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(200), default="")
