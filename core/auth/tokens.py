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
from .models import ApiToken, Role, RolePermission, User, user_roles
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


@dataclass(frozen=True)
class Grants:
    """What a token's user holds, read with the token in one statement (see
    :func:`authenticate`): whether a role is a superuser role, and every permission name its
    roles grant (known or not: narrowed to the known ones by :func:`token_permissions`)."""

    superuser: bool
    names: frozenset[str]


def token_permissions(token: ApiToken, known: Iterable[str],
                      grants: Grants | None = None) -> frozenset[str]:
    """What ``token`` may do now: its scope narrowed by its user's current permissions.

    ``grants``: the user's roles as read by :func:`authenticate` in the same statement as the
    token (without them, the user's roles are loaded).
    """
    if grants is None:
        held = user_permissions(token.user, known)
    elif not token.user.is_active:
        held = frozenset()
    else:
        known = frozenset(known)
        held = known if grants.superuser else grants.names & known
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


#: Separates permission names in the aggregate of :func:`_lookup` (names are dotted words).
_SEPARATOR = "\n"


def _lookup(token_hash: str) -> tuple[ApiToken, Grants] | None:
    """The token with its user and the user's grants, in one SQL statement.

    Nothing is cached between requests: a revoked token, a deactivated user or a changed role
    takes effect at the next request. The user's ``roles`` are not loaded (they load on first
    access, should anything else need them).
    """
    of_user = user_roles.c.user_id == ApiToken.user_id
    superuser = sa.exists().where(of_user, user_roles.c.role_id == Role.id,
                                  Role.is_superuser.is_(True))
    # the join keeps ApiToken in the subquery's WHERE, so it correlates with the outer
    # statement (an IN (SELECT ... WHERE user_id = api_token.user_id) one level deeper did
    # not: it read the roles of every user who has a token)
    names = (sa.select(sa.func.aggregate_strings(RolePermission.permission, _SEPARATOR))
             .join(user_roles, user_roles.c.role_id == RolePermission.role_id)
             .where(of_user)
             .correlate(ApiToken)
             .scalar_subquery())
    row = db.session.execute(
        sa.select(ApiToken, superuser.label("superuser"), names.label("names"))
        .options(sa.orm.joinedload(ApiToken.user).lazyload(User.roles))
        .where(ApiToken.token_hash == token_hash)).first()
    if row is None:
        return None
    token, is_super, joined = row
    return token, Grants(bool(is_super), frozenset(joined.split(_SEPARATOR) if joined else ()))


def authenticate(plaintext: str, ip: str | None, now: datetime | None = None,
                 ) -> tuple[ApiToken | None, Rejection | None]:
    """Look up a presented token; ``(token, None)`` when it may be used, else a rejection.

    Updates ``last_used_at`` (the caller commits). Never logs the token itself.
    """
    token, rejection, _ = authenticate_with_grants(plaintext, ip, now)
    return token, rejection


def authenticate_with_grants(plaintext: str, ip: str | None, now: datetime | None = None,
                             ) -> tuple[ApiToken | None, Rejection | None, Grants | None]:
    """:func:`authenticate`, plus the user's grants for :func:`token_permissions`: the token,
    its user and the permissions of the user's roles come from one SQL statement."""
    now = now or utcnow()
    invalid = Rejection("invalid_token", "The API token is not valid. Check that the whole "
                        "token is sent as 'Authorization: Bearer bh_...'.")
    if not plaintext.startswith(PREFIX) or len(plaintext) > 200:
        return None, invalid, None
    found = _lookup(hash_token(plaintext))
    if found is None:
        return None, invalid, None
    token, grants = found
    rejection = _refusal(token, ip, now)
    if rejection is not None:
        return None, rejection, None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH or \
            token.last_used_ip != (ip or "")[:45]:
        token.last_used_at = now
        token.last_used_ip = (ip or "")[:45] or None
    return token, None, grants


def _refusal(token: ApiToken, ip: str | None, now: datetime) -> Rejection | None:
    """Why an existing token may not be used now (``None``: it may)."""
    if token.revoked_at is not None:
        return Rejection("token_revoked", "This API token was revoked. Create a new token on "
                         "your profile page.", token.id)
    if token.expires_at is not None and token.expires_at <= now:
        return Rejection("token_expired", "This API token expired on "
                         f"{token.expires_at:%Y-%m-%d %H:%M} UTC. Create a new token on your "
                         "profile page.", token.id)
    if not token.user.is_active:
        return Rejection("user_inactive", "The user who owns this API token is deactivated.",
                         token.id)
    if not _network_allows(token, ip):
        return Rejection("network_not_allowed", f"This API token may not be used from {ip}: "
                         f"it is limited to {', '.join(token.networks)}.", token.id)
    return None


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
