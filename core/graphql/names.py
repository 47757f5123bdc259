"""GraphQL naming and ids, defined once: camelCase fields over snake_case attributes, and
``ID`` arguments parsed into database ids with a field-level error.

Plugins use them through ``backhaul.sdk.graphql`` (``set_aliases``, ``parse_id``).
"""
from __future__ import annotations

import re

from .payloads import FieldErrors

_UPPER = re.compile(r"(?<!^)([A-Z])")


def snake(name: str) -> str:
    """``"postalCode"`` -> ``"postal_code"``."""
    return _UPPER.sub(r"_\1", name).lower()


def camel(name: str) -> str:
    """``"postal_code"`` -> ``"postalCode"``."""
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def set_aliases(object_type, *fields: str, **renamed: str) -> None:
    """Resolve camelCase ``fields`` from their snake_case attributes, and ``renamed``
    fields from the attribute given (``number="display_number"``)."""
    for field in fields:
        object_type.set_alias(field, snake(field))
    for field, attribute in renamed.items():
        object_type.set_alias(field, attribute)


def parse_id(value, field: str = "id") -> int:
    """An ``ID`` argument as a positive database id; raises :class:`FieldErrors` naming
    ``field`` (an ``ok: false`` payload in a mutation, a client-readable error in a query)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or number >= 2**63:
        raise FieldErrors({field: [f"'{value}' is not a valid {field}."]})
    return number
