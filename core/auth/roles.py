"""Roles, permissions and who may grant what. Plain functions over the models (no Flask).

Permissions are contributed by plugins (``permissions`` hook). A role may only grant known
permissions; rows naming a permission of a plugin that is now disabled are kept (re-enabling
restores them) but grant nothing. The built-in Administrator role holds every known
permission. Nobody can hand out more than they hold: a user manager who is not an
administrator can only assign roles, and edit users, whose permissions they hold themselves.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..db import db
from .models import ADMINISTRATOR, Role, RolePermission, User

#: The verbs of read-only permissions: ``<plugin>.<object>.<verb>`` with one of these verbs.
READ_VERBS = frozenset({"view", "list", "read"})


class RoleError(ValueError):
    """A role or user change that is not allowed; the message says why."""


def is_read_permission(name: str) -> bool:
    """True for read-only permissions (last dotted part ``view``, ``list`` or ``read``)."""
    return name.rsplit(".", 1)[-1] in READ_VERBS


def user_permissions(user: User, known: Iterable[str]) -> frozenset[str]:
    """Everything ``user`` holds now (an inactive user holds nothing)."""
    known = frozenset(known)
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return known
    held: set[str] = set()
    for role in user.roles:
        held |= role.permission_names
    return frozenset(held & known)


def ensure_builtin_roles() -> Role:
    """Create the Administrator role if it is missing (idempotent); returns it."""
    role = db.session.scalar(sa.select(Role).where(Role.name == ADMINISTRATOR))
    if role is None:
        role = Role(name=ADMINISTRATOR, description="Every permission, now and in future.",
                    is_superuser=True, builtin=True)
        db.session.add(role)
        db.session.flush()
    return role


def unknown_permissions(names: Iterable[str], known: Iterable[str]) -> list[str]:
    return sorted(set(names) - set(known))


def set_role_permissions(role: Role, names: Iterable[str], known: Iterable[str],
                         granter: frozenset[str] | None = None) -> None:
    """Replace what ``role`` grants. ``granter``: the editor's permissions (None: no limit)."""
    names, known = set(names), frozenset(known)
    if role.is_superuser:
        if names:
            raise RoleError("The Administrator role holds every permission; it has no list.")
        return
    bad = unknown_permissions(names, known)
    if bad:
        raise RoleError(f"Unknown permission(s): {', '.join(bad)}. Only permissions that an "
                        "enabled plugin declares can be granted.")
    if granter is not None:
        beyond = sorted((names - role.permission_names) - granter)
        if beyond:
            raise RoleError(f"You cannot grant permissions you do not hold: {', '.join(beyond)}.")
    keep = [g for g in role.grants if g.permission in names or g.permission not in known]
    present = {g.permission for g in keep}
    role.grants = keep + [RolePermission(permission=n) for n in sorted(names - present)]


def role_permissions(role: Role, known: Iterable[str]) -> frozenset[str]:
    known = frozenset(known)
    return known if role.is_superuser else role.permission_names & known


def check_may_assign(roles: Iterable[Role], granter: frozenset[str], granter_is_super: bool,
                     known: Iterable[str]) -> None:
    """Raise :class:`RoleError` if a granter may not hand out one of ``roles``."""
    if granter_is_super:
        return
    known = frozenset(known)
    for role in roles:
        if role.is_superuser:
            raise RoleError(f"Only an administrator can assign the {role.name} role.")
        beyond = role_permissions(role, known) - granter
        if beyond:
            raise RoleError(f"You cannot assign the role {role.name}: it grants permissions "
                            f"you do not hold ({', '.join(sorted(beyond))}).")


def check_may_manage(target: User, granter: frozenset[str], granter_is_super: bool,
                     known: Iterable[str]) -> None:
    """A user manager may only edit users who hold no more than they do."""
    if granter_is_super:
        return
    if target.is_superuser:
        raise RoleError("Only an administrator can change an administrator's account.")
    beyond = user_permissions(target, known) - granter
    if beyond:
        raise RoleError("You cannot change this user: they hold permissions you do not "
                        f"({', '.join(sorted(beyond))}).")


def active_superusers(exclude: User | None = None) -> int:
    query = (sa.select(sa.func.count(sa.distinct(User.id)))
             .join(User.roles).where(Role.is_superuser.is_(True), User.is_active.is_(True)))
    if exclude is not None:
        query = query.where(User.id != exclude.id)
    return db.session.scalar(query) or 0


def check_keeps_an_administrator(user: User, active: bool, roles: Iterable[Role]) -> None:
    """Refuse a change that would leave no active administrator."""
    stays_super = active and any(r.is_superuser for r in roles)
    if user.is_superuser and user.is_active and not stays_super and not active_superusers(
            exclude=user):
        raise RoleError("This is the last active administrator: make someone else an "
                        "administrator first.")


def delete_role(role: Role) -> None:
    if role.builtin:
        raise RoleError(f"The built-in role {role.name} cannot be deleted.")
    db.session.delete(role)
