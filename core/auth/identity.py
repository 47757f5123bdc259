"""The signed-in principal of the current request (placeholder until the auth work lands).

Interface (stable, used by GraphQL, the UI shell and views):

* ``current_principal() -> Principal`` — never ``None``; anonymous when nobody signed in.
* ``Principal.is_authenticated``, ``.user`` (the staff User or None), ``.token`` (the API token
  or None), ``.has_permission(name) -> bool`` (a token's scopes narrow its user's
  permissions), ``.permissions -> frozenset[str]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user: object | None = None
    token: object | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    def has_permission(self, name: str) -> bool:
        return name in self.permissions


ANONYMOUS = Principal()


def current_principal() -> Principal:
    return ANONYMOUS
