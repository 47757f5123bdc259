"""Text the database cannot store is refused at the edge, naming where it was.

PostgreSQL's ``text`` cannot hold NUL (U+0000): a string with one reached a resolver's
``WHERE name ILIKE …`` or ``INSERT`` and came back as INTERNAL_ERROR (the fuzzer found it in
search filters and names across plugins). It is never meaningful in any field, so the whole
request is refused before anything runs: in a literal of the document (a validation error
at its location) or in the variables (a 400 naming the variable's path).
"""
from __future__ import annotations

from typing import Any

from graphql import GraphQLError, ValidationRule

NUL = "\x00"
MAX_DEPTH = 64


class NoNulInText(ValidationRule):
    """A string literal holding U+0000 is a validation error at its location."""

    def enter_string_value(self, node, *_args):
        if NUL in node.value:
            self.report_error(GraphQLError(
                "Text may not contain the NUL character (\\u0000).", node,
                extensions={"code": "BAD_USER_INPUT"}))


def nul_in_variables(variables: dict | None) -> str | None:
    """The path of the first variable value holding U+0000 (``filter.search``), or None."""
    def walk(value: Any, path: str, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return None  # the limits refuse documents this deep anyway
        if isinstance(value, str):
            return path if NUL in value else None
        if isinstance(value, dict):
            for key, item in value.items():
                found = (path + "." if path else "") + str(key) if NUL in str(key) else \
                    walk(item, (path + "." if path else "") + str(key), depth + 1)
                if found:
                    return found
        elif isinstance(value, list):
            for i, item in enumerate(value):
                found = walk(item, f"{path}.{i}", depth + 1)
                if found:
                    return found
        return None

    return walk(variables or {}, "", 0)
