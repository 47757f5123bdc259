"""Errors a client may see, and the formatter that hides everything else.

Resolvers raise :class:`GraphQLUserError` (or a subclass) for anything the client should read:
its message and ``code`` are passed through. Any other exception is a bug or an outage: the
client gets ``"Internal error"`` with an ``errorId``, and the traceback is logged under that id.
No response ever carries a stack trace.
"""
from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError

from .text import MESSAGE as NUL_MESSAGE
from .text import is_nul_in_text

log = logging.getLogger("backhaul.graphql")


class GraphQLUserError(Exception):
    """An error whose message is meant for the client (bad input, missing permission...)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, code: str | None = None, **extensions):
        super().__init__(message)
        self.message = message
        self.extensions = {"code": code or self.code, **extensions}


class AuthenticationRequired(GraphQLUserError):
    code = "UNAUTHENTICATED"


class PermissionDenied(GraphQLUserError):
    code = "FORBIDDEN"


def limit_error(limit: str, setting: str, maximum: int, actual: int | None = None,
                nodes=None) -> GraphQLError:
    """A validation error naming the limit, the setting that controls it and the numbers."""
    measured = f" ({actual} > {maximum})" if actual is not None else f" (maximum {maximum})"
    return GraphQLError(
        f"Query {limit} limit exceeded{measured}: simplify the query or ask an administrator "
        f"about {setting}.", nodes,
        extensions={"code": "LIMIT_EXCEEDED", "limit": limit, "maximum": maximum,
                    **({"actual": actual} if actual is not None else {})})


def format_error(error: GraphQLError) -> dict:
    """The JSON for one error: client errors as they are, anything unexpected masked."""
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.formatted
    formatted = {"message": error.message, "locations": error.formatted.get("locations"),
                 "path": error.path}
    if isinstance(original, GraphQLUserError):
        formatted.update(message=original.message, extensions=dict(original.extensions))
    elif is_nul_in_text(original):  # the client's text, not a bug: say so at its field
        formatted.update(message=NUL_MESSAGE, extensions={"code": "BAD_USER_INPUT"})
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error("GraphQL internal error %s at %s", error_id, error.path,
                  exc_info=(type(original), original, original.__traceback__))
        formatted.update(message="Internal error",
                         extensions={"code": "INTERNAL_ERROR", "errorId": error_id})
    return {k: v for k, v in formatted.items() if v is not None}
