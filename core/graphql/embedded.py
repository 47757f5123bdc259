"""GraphQL run from inside Backhaul (saved reports, jobs) on behalf of a staff member.

Three functions, re-exported by ``backhaul.sdk.graphql``:

* :func:`check_query` — would this document run? The same parse, limits and validation as
  ``/graphql`` (so a saved query is refused on save, not at 07:00 on Monday), and it must be
  a single read-only ``query`` operation.
* :func:`run_query_as` — execute a query with the permissions of a staff user *as they are
  now* (a deactivated user holds none), narrowed to the current principal's when someone is
  signed in: whoever runs somebody else's saved report sees at most what both may see, and a
  scheduled run (no request) sees exactly what the owner may see.
* :func:`current_user_id` — the staff member acting (signed in, or the owner of the token).
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager

from flask import current_app, g, has_request_context
from graphql import GraphQLError, OperationDefinitionNode, OperationType, specified_rules, validate

from . import limits as limits_mod
from .execution import Context, run


def _state():
    return current_app.extensions["backhaul.graphql"]


def check_query(query: str) -> list[str]:
    """Problems with ``query`` as a saved, read-only query (``[]``: it would run)."""
    if not isinstance(query, str) or not query.strip():
        return ["enter a GraphQL query, e.g. { viewer { email } }"]
    state = _state()
    try:
        document = limits_mod.parse_limited(query, state.limits)
    except GraphQLError as exc:
        return [exc.message]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return ["the document must hold exactly one operation"]
    if operations[0].operation is not OperationType.QUERY:
        return ["only a query can be saved (not a mutation or subscription)"]
    if operations[0].variable_definitions:
        return ["a saved query takes no variables: write the values into the query"]
    problems = validate(state.schema, document,
                        [*specified_rules, *limits_mod.rules(state.limits, None)])
    return [p.message for p in problems]


def _principal_for(user_id: int):
    from backhaul.core.auth.identity import current_principal, principal_for_user
    from backhaul.core.auth.models import User
    from backhaul.core.db import db

    user = db.session.get(User, user_id)
    if user is None:
        return None
    owner = principal_for_user(user)
    viewer = current_principal()
    if viewer.is_authenticated and viewer.user is not None and viewer.user.id != user_id:
        owner = dataclasses.replace(owner, permissions=owner.permissions & viewer.permissions,
                                    is_superuser=False)
    elif viewer.is_authenticated and viewer.token is not None:  # a token narrows its owner
        owner = dataclasses.replace(owner, permissions=owner.permissions & viewer.permissions,
                                    is_superuser=False)
    return owner


@contextmanager
def _as_principal(principal):
    """Make ``may()`` inside resolvers answer for ``principal`` too (restored afterwards)."""
    if has_request_context():
        missing = object()
        before = g.get("backhaul_principal", missing)
        g.backhaul_principal = principal
        try:
            yield
        finally:
            if before is missing:
                g.pop("backhaul_principal", None)
            else:
                g.backhaul_principal = before
        return
    with current_app.test_request_context("/graphql", method="POST"):
        g.backhaul_principal = principal
        yield


def run_query_as(user_id: int, query: str, variables: dict | None = None) -> dict:
    """Run ``query`` as staff user ``user_id`` (narrowed as the module says).

    Returns the GraphQL response (``{"data": ..., "errors": [...]}``); a user that does not
    exist or is inactive gets an ``errors`` answer and no data. Never writes: only queries
    run (:func:`check_query`), and the transaction is left to the caller.
    """
    problems = check_query(query)
    if problems:
        return {"data": None, "errors": [{"message": m} for m in problems]}
    principal = _principal_for(user_id)
    if principal is None or not principal.user.is_active:
        return {"data": None, "errors": [{"message": "the report's owner is not an active "
                                                     "staff member: nothing was run",
                                          "extensions": {"code": "OWNER_INACTIVE"}}]}
    state = _state()
    with _as_principal(principal):
        _, response, _ = run(state.schema, {"query": query, "variables": variables},
                             Context(principal=principal), state.limits)
    return response


def current_user_id() -> int | None:
    """The staff member acting now: signed in, or the owner of the API token in use."""
    from backhaul.core.auth.identity import current_principal

    user = current_principal().user
    return getattr(user, "id", None)
