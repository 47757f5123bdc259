"""Tables of staff sign-in: users, roles and their permissions, sessions, API tokens, attempts.

Secrets are never stored in the clear: passwords as argon2id hashes, API tokens and session
ids as SHA-256 of a high-entropy random value, the TOTP seed encrypted with a key derived from
the app's secret key. For the audit trail: ``__audit_secret__`` columns are recorded as
changed but never with their value, ``__audit_exclude__`` columns (bookkeeping that changes on
every request) are not recorded, and ``__audit__ = False`` tables are not audited row by row
(sessions and sign-in attempts: they are a log themselves; security events about them are
recorded explicitly).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, UTCDateTime, db, utcnow

#: The role that holds every permission (contributed now or later); it cannot be deleted.
ADMINISTRATOR = "Administrator"

user_roles = sa.Table(
    "auth_user_role", db.metadata,
    sa.Column("user_id", sa.ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("auth_role.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_auth_user_role_role_id", "role_id"),
)


class User(TimestampMixin, db.Model):
    """A staff member who signs in to the UI (and may own API tokens)."""

    __tablename__ = "auth_user"
    __audit_secret__ = ("password_hash", "totp_secret")
    __audit_exclude__ = ("totp_last_counter", "failed_login_count", "last_login_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Fernet token of the base32 seed; the seed is pending until ``totp_enabled``.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    #: Last TOTP time step accepted, so a code cannot be replayed.
    totp_last_counter: Mapped[int | None] = mapped_column(sa.BigInteger)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, back_populates="users",
                                             lazy="selectin", order_by="Role.name")

    def __repr__(self) -> str:  # never shows secrets
        return f"<User {self.id} {self.email}>"

    @property
    def is_superuser(self) -> bool:
        return any(role.is_superuser for role in self.roles)


class UserSetting(db.Model):
    """A staff member's own settings: time zone (None: the ISP's) and whether the next
    sign-in must change the password (a printed or initial password)."""

    __tablename__ = "auth_user_setting"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    must_change_password: Mapped[bool] = mapped_column(default=False)


class Role(TimestampMixin, db.Model):
    """A named set of permissions. ``is_superuser`` roles hold every known permission."""

    __tablename__ = "auth_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    is_superuser: Mapped[bool] = mapped_column(default=False)
    builtin: Mapped[bool] = mapped_column(default=False)

    users: Mapped[list[User]] = relationship(secondary=user_roles, back_populates="roles")
    grants: Mapped[list[RolePermission]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin")

    @property
    def permission_names(self) -> frozenset[str]:
        return frozenset(g.permission for g in self.grants)

    def __repr__(self) -> str:
        return f"<Role {self.id} {self.name}>"


class RolePermission(db.Model):
    """One permission granted by one role (a row per name, so it can be queried and audited)."""

    __tablename__ = "auth_role_permission"

    role_id: Mapped[int] = mapped_column(sa.ForeignKey("auth_role.id", ondelete="CASCADE"),
                                         primary_key=True)
    permission: Mapped[str] = mapped_column(sa.String(150), primary_key=True)

    role: Mapped[Role] = relationship(back_populates="grants")


class AuthSession(db.Model):
    """A server-side sign-in session; the browser's signed cookie holds only its random token.

    ``id`` is the SHA-256 (hex) of that token. ``stage`` is ``"full"`` for a signed-in
    session, ``"mfa"`` between a correct password and the second factor (not signed in).
    """

    __tablename__ = "auth_session"
    __audit__ = False

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         index=True)
    stage: Mapped[str] = mapped_column(sa.String(8), default="full")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(db.Model):
    """A personal API token: ``bh_<secret>``, shown once, stored as SHA-256 (hex).

    ``scope`` is ``"read"`` (the user's read permissions), ``"custom"`` (``permissions``, a
    list of names) or ``"full"`` (everything the user holds). In every case the effective
    permissions are narrowed by the user's *current* permissions at each request.
    ``networks`` is a list of CIDR blocks the token may be used from (empty: anywhere).
    """

    __tablename__ = "auth_api_token"
    __audit_secret__ = ("token_hash",)
    __audit_exclude__ = ("last_used_at", "last_used_ip")

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("auth_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(8), default="read")
    permissions: Mapped[list] = mapped_column(sa.JSON, default=list)
    networks: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_ip: Mapped[str | None] = mapped_column(sa.String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}...>"


class LoginAttempt(db.Model):
    """One sign-in attempt (password or second factor): the record throttling counts from.

    ``email`` is what was typed (normalised), known account or not, so throttling treats
    unknown addresses exactly like real ones.
    """

    __tablename__ = "auth_login_attempt"
    __audit__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    success: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(sa.String(32), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_auth_login_attempt_email_at", "email", "at"),
                      sa.Index("ix_auth_login_attempt_at", "at"))
