"""Bad input and forbidden transitions raise ``marshmallow.ValidationError``.

``messages`` maps a field name (or ``"_schema"`` for the whole request) to a list of
messages that say what to do next; views show them next to the field, GraphQL returns them
as ``FieldError`` payloads. Every check runs *before* the first write, so a refused request
leaves nothing behind (and callers roll back on any error anyway).
"""
from __future__ import annotations

from marshmallow import ValidationError


def invalid(field: str, message: str) -> ValidationError:
    """A ValidationError for one field (``raise invalid("quantity", "...")``)."""
    return ValidationError({field: [message]})


__all__ = ["ValidationError", "invalid"]
