"""The GraphQL part of the permission matrix: EVERY field of Query and Mutation in the schema
assembled from every installed plugin (plus an in-test plugin with a mutation), for the four
principals of ``test_permission_matrix``: anonymous, a user holding every permission but the
ones needed, a read-only token of a user who holds them, and a user holding just those.

The rule is the routes' rule (:func:`test_permission_matrix.expected_refusal`); in GraphQL a
refused field is an error with ``extensions.code`` FORBIDDEN at its path, anonymous requests
get 401, and a read-only token's mutation gets 403 before anything runs.
"""
from __future__ import annotations

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_composite_type,
)
from graphql.pyutils import Undefined
from graphql_helpers import CALLS, tst_plugin
from test_permission_matrix import expected_refusal

from backhaul.core.auth.identity import known_permissions
from backhaul.sdk.testing.auth import (
    PrincipalClient,
    create_api_token,
    fast_sign_in,
    make_staff_user,
)

SCALARS = {"Int": "1", "Float": "1.5", "String": '"matrix"', "Boolean": "false", "ID": '"1"',
           "DateTime": '"2026-01-01T00:00:00Z"', "Date": '"2026-01-01"', "JSON": "{}"}
PERMISSION_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "READ_ONLY_TOKEN"}
CRASH_BY_DESIGN = {"tstBoom"}  # the in-test plugin's error-masking probe


@pytest.fixture
def app(make_app, temp_plugin):
    from graphql_helpers import tst_tables

    CALLS.clear()
    application = make_app(extra_plugins=[tst_plugin(temp_plugin)])
    with tst_tables(application), application.app_context():
        yield application


def literal(type_) -> str:
    """A valid GraphQL literal of ``type_`` (required input fields filled in)."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        required = [f"{name}: {literal(f.type)}" for name, f in type_.fields.items()
                    if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined]
        return "{" + ", ".join(required) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return SCALARS.get(type_.name, '"matrix"')


def probe(operation: str, name: str, field) -> str:
    args = [f"{arg_name}: {literal(arg.type)}" for arg_name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined]
    call = f"{name}({', '.join(args)})" if args else name
    selection = " { __typename }" if is_composite_type(get_named_type(field.type)) else ""
    return f"{operation} {{ {call}{selection} }}"


def root_fields(app) -> list[tuple[str, str, tuple[str, ...], object]]:
    """Every root field with what the REVIEWED TABLE says it needs (never what the code
    under test declares: weakening a directive must make this matrix fail)."""
    from permission_table import GRAPHQL

    schema = app.extensions["backhaul.graphql"].schema
    out = []
    for operation, type_ in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in (type_.fields.items() if type_ else ()):
            pinned = GRAPHQL[f"{type_.name}.{name}"]  # KeyError: review and add it
            perms = tuple(p for p in pinned.split() if not p.startswith("@"))
            out.append((operation, name, perms, field))
    return out


def principals(app, perms: tuple[str, ...]) -> list[PrincipalClient]:
    """The four principals for a field needing ``perms`` (all of them)."""
    clients = [PrincipalClient("anonymous", app.test_client())]
    if perms:
        without = PrincipalClient("without", app.test_client())
        fast_sign_in(without.client, make_staff_user(sorted(known_permissions(app) - set(perms))))
        clients.append(without)
    token = create_api_token(make_staff_user(perms), "read")
    clients.append(PrincipalClient("read_token", app.test_client(),
                                   {"Authorization": f"Bearer {token}"}, cookie_based=False))
    allowed = PrincipalClient("allowed", app.test_client())
    fast_sign_in(allowed.client, make_staff_user(perms))
    clients.append(allowed)
    return clients


def expected(principal: str, operation: str, perms: tuple[str, ...]) -> int | None:
    """401, 403 or None (let through), from the routes' rule; a read-only token never runs
    a mutation, and a field needing several permissions is refused if any is refused."""
    if principal == "read_token" and operation == "mutation":
        return 403
    refusals = {expected_refusal(principal, p) for p in perms} or {
        expected_refusal(principal, None)}
    return 401 if 401 in refusals else 403 if 403 in refusals else None


def problem(principal, operation, name, response, refusal) -> str | None:
    body = response.get_json(silent=True) or {}
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", ())}
    on_field = {e.get("extensions", {}).get("code") for e in body.get("errors", ())
                if (e.get("path") or [None])[0] == name}
    if refusal == 401:
        return None if response.status_code == 401 else f"expected 401, got {response.status_code}"
    if response.status_code == 400:
        return f"the probe query was refused: {body}"  # the matrix must exercise the field
    if refusal == 403:
        if principal == "read_token" and operation == "mutation":
            return None if response.status_code == 403 and "READ_ONLY_TOKEN" in codes else \
                f"expected 403 READ_ONLY_TOKEN, got {response.status_code} {codes}"
        return None if "FORBIDDEN" in on_field else f"expected FORBIDDEN, got {body}"[:300]
    if response.status_code != 200 or codes & PERMISSION_CODES:
        return f"expected access, got {response.status_code} {codes}"
    if "INTERNAL_ERROR" in codes and name not in CRASH_BY_DESIGN:
        return f"resolver crashed on the probe: {body}"[:300]
    return None


def test_every_root_field_is_covered(app):
    names = {name for _, name, _, _ in root_fields(app)}
    assert {"viewer", "plugins", "auditEntries", "tstWidgets", "tstEcho",
            "tstCreateWidget"} <= names


def test_graphql_permission_matrix(app):
    failures = []
    fields = root_fields(app)
    for operation, name, perms, field in fields:
        query = probe(operation, name, field)
        for client in principals(app, perms):
            refusal = expected(client.name, operation, perms)
            calls_before = len(CALLS)
            response = client.post("/graphql", json={"query": query})
            issue = problem(client.name, operation, name, response, refusal)
            if refusal is not None and len(CALLS) != calls_before:
                issue = f"a resolver ran although the request was refused ({CALLS[-1]})"
            if issue:
                failures.append(f"{operation} {name} {perms} as {client.name}: {issue}")
    assert not failures, f"{len(failures)} of {len(fields)} fields misbehave:\n" + "\n".join(
        failures)
