"""Staff accounts: create, change password, deactivate. Plain functions (no Flask).

Changing a password or deactivating an account revokes the user's sessions, so the change
takes effect on every browser at once (API tokens of a deactivated user stop working too,
since a token never exceeds its user's current permissions).
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from ..db import db, utcnow
from . import passwords, sessions
from .models import AuthSession, Role, User
from .throttle import normalise_email


class UserError(ValueError):
    """A change that is not allowed. ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.field = field


def check_password(password: str, min_length: int, email: str | None = None,
                   field: str = "password") -> None:
    problems = passwords.policy_problems(password, min_length, email)
    if problems:
        raise UserError(" ".join(problems), field)


def email_taken(email: str, exclude: User | None = None) -> bool:
    query = sa.select(User.id).where(User.email == normalise_email(email))
    if exclude is not None:
        query = query.where(User.id != exclude.id)
    return db.session.scalar(query) is not None


def create_user(email: str, name: str, password: str, roles: Iterable[Role] = (),
                min_length: int = passwords.DEFAULT_MIN_LENGTH, is_active: bool = True) -> User:
    email = normalise_email(email)
    if email_taken(email):
        raise UserError("A user with this e-mail address exists already.", "email")
    check_password(password, min_length, email)
    user = User(email=email, name=name.strip() or email, is_active=is_active,
                password_hash=passwords.hash_password(password), password_changed_at=utcnow())
    user.roles = list(roles)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str, min_length: int,
                 keep: AuthSession | None = None) -> int:
    """Set a new password and revoke the user's other sessions; returns how many."""
    check_password(password, min_length, user.email)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    return sessions.revoke_all(user, "password changed", keep=keep)


def change_own_password(user: User, current: str, new: str, min_length: int,
                        keep: AuthSession | None = None) -> int:
    from .reauth import ReauthFailed, confirm_current_password

    try:
        confirm_current_password(user, current)
    except ReauthFailed as exc:
        exc.record_and_commit()
        raise UserError(str(exc), exc.field) from None
    if passwords.verify_password(user.password_hash, new):
        raise UserError("Choose a password different from the current one.", "new_password")
    try:
        return set_password(user, new, min_length, keep)
    except UserError as exc:
        raise UserError(str(exc), "new_password") from None


def set_active(user: User, active: bool) -> None:
    user.is_active = active
    if not active:
        sessions.revoke_all(user, "deactivated")


def all_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.name, User.email)))
