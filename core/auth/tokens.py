"""Personal API tokens: ``bh_`` + 43 random URL-safe characters (256 bits), sent as
``Authorization: Bearer bh_...``.

Only the SHA-256 of a token is stored (a fast hash is right for a high-entropy secret: there is
nothing to brute-force), plus its first characters to tell tokens apart in lists. The
plaintext exists once, in the response that creates it. A token's permissions are its scope
intersected with its user's *current* permissions, so a token never exceeds its user.
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..db import db, utcnow
from .models import ApiToken, User
from .roles import is_read_permission, unknown_permissions, user_permissions

log = logging.getLogger("backhaul.security")

PREFIX = "bh_"
SCOPES = ("read", "custom", "full")
#: ``last_used_at`` is written at most this often per token (not one write per API call).
TOUCH = timedelta(seconds=60)


class TokenError(ValueError):
    """A token cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class Rejection:
    """Why a presented token is refused: ``code`` for machines, ``message`` for people."""

    code: str
    message: str
    token_id: int | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_networks(text: str | Iterable[str] | None) -> list[str]:
    """CIDR blocks from a comma/space/newline separated string; raises :class:`TokenError`."""
    if text is None:
        return []
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    networks = []
    for item in items:
        try:
            networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise TokenError(f"'{item}' is not an IP network: use CIDR notation such as "
                             "192.0.2.0/24 or 2001:db8::/32.") from None
    return networks


def create(user: User, name: str, scope: str = "read", permissions: Iterable[str] = (),
           known: Iterable[str] = (), expires_at: datetime | None = None,
           networks: Iterable[str] | str | None = None,
           now: datetime | None = None) -> tuple[str, ApiToken]:
    """Create a token for ``user``; returns ``(plaintext, row)``. Show the plaintext once."""
    now = now or utcnow()
    known = frozenset(known)
    if scope not in SCOPES:
        raise TokenError(f"Unknown scope '{scope}': use one of {', '.join(SCOPES)}.")
    permissions = sorted(set(permissions)) if scope == "custom" else []
    if scope == "custom":
        if not permissions:
            raise TokenError("Choose at least one permission for a custom-scope token.")
        bad = unknown_permissions(permissions, known)
        if bad:
            raise TokenError(f"Unknown permission(s): {', '.join(bad)}.")
        beyond = sorted(set(permissions) - user_permissions(user, known))
        if beyond:
            raise TokenError("A token cannot hold permissions its user does not have: "
                             f"{', '.join(beyond)}.")
    if expires_at is not None and expires_at <= now:
        raise TokenError("The expiry must be in the future.")
    if not name.strip():
        raise TokenError("Give the token a name that says what uses it.")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, user_id=user.id, name=name.strip()[:100],
                   prefix=plaintext[:len(PREFIX) + 6], token_hash=hash_token(plaintext),
                   scope=scope, permissions=permissions, networks=parse_networks(networks),
                   created_at=now, expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    return plaintext, row


def token_permissions(token: ApiToken, known: Iterable[str]) -> frozenset[str]:
    """What ``token`` may do now: its scope narrowed by its user's current permissions."""
    held = user_permissions(token.user, known)
    if token.scope == "full":
        return held
    if token.scope == "read":
        return frozenset(p for p in held if is_read_permission(p))
    return held & frozenset(token.permissions or ())


def _network_allows(token: ApiToken, ip: str | None) -> bool:
    if not token.networks:
        return True
    try:
        address = ipaddress.ip_address((ip or "").split("%", 1)[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(net, strict=False) for net in token.networks)


def authenticate(plaintext: str, ip: str | None,
                 now: datetime | None = None) -> tuple[ApiToken | None, Rejection | None]:
    """Look up a presented token; ``(token, None)`` when it may be used, else a rejection.

    Updates ``last_used_at`` (the caller commits). Never logs the token itself.
    """
    now = now or utcnow()
    if not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None, Rejection("invalid_token", "The API token is not valid. Check that the "
                               "whole token is sent as 'Authorization: Bearer bh_...'.")
    token = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_hash == hash_token(plaintext)))
    if token is None:
        return None, Rejection("invalid_token", "The API token is not valid. Check that the "
                               "whole token is sent as 'Authorization: Bearer bh_...'.")
    if token.revoked_at is not None:
        return None, Rejection("token_revoked", "This API token was revoked. Create a new "
                               "token on your profile page.", token.id)
    if token.expires_at is not None and token.expires_at <= now:
        return None, Rejection("token_expired", "This API token expired on "
                               f"{token.expires_at:%Y-%m-%d %H:%M} UTC. Create a new token "
                               "on your profile page.", token.id)
    if not token.user.is_active:
        return None, Rejection("user_inactive", "The user who owns this API token is "
                               "deactivated.", token.id)
    if not _network_allows(token, ip):
        return None, Rejection("network_not_allowed", f"This API token may not be used from "
                               f"{ip}: it is limited to {', '.join(token.networks)}.", token.id)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH or \
            token.last_used_ip != (ip or "")[:45]:
        token.last_used_at = now
        token.last_used_ip = (ip or "")[:45] or None
    return token, None


def revoke(token: ApiToken, now: datetime | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()


def status(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired`` (for lists)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def tokens_of(user: User | None = None) -> list[ApiToken]:
    query = sa.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))
