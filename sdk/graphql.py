"""GraphQL helpers for plugin authors: the supported way to extend ``/graphql``.

A plugin contributes SDL and bindables through the ``graphql_schema`` hook::

    from backhaul.sdk import GraphQLContribution, hookimpl
    from backhaul.sdk.graphql import ObjectType, QueryType, load, paginate, requires

    query = QueryType()

    @query.field("billingInvoices")
    def resolve_invoices(_, info, first=None, after=None):
        return paginate(sa.select(Invoice), first, after, order_by=Invoice.id.desc())

    @hookimpl
    def graphql_schema():
        return GraphQLContribution(SDL, (query, ...))

Every field of ``Query``/``Mutation`` must carry ``@requires(permission: "...")`` (or a
resolver decorated with :func:`requires`, or ``@public`` for any signed-in user): a root field
without one fails the plugin at start-up. Core types available to your SDL: ``DateTime``,
``Date``, ``JSON``, ``Money``, ``PageInfo``, ``Connection``, ``Edge``, ``FieldError``,
``MutationPayload``.

To run GraphQL from inside Backhaul on behalf of a staff member (a saved report, a job):
``check_query(text)`` lists what would stop a read-only query (the same parse, validation and
limits as ``/graphql``), ``run_query_as(user_id, text)`` runs it with that person's
permissions as they are now, narrowed to the signed-in principal's when there is one, and
``current_user_id()`` names the staff member acting (session or token).

Resolvers get ``info.context.principal`` (who asks) and ``info.context.loader``. Name fields
in camelCase over snake_case attributes with ``set_aliases(obj, "createdAt", ...)`` and read
``ID`` arguments with ``parse_id(value, "accountId")`` (a field error for a bad id).
"""
from __future__ import annotations

from ariadne import (
    EnumType,
    InputType,
    InterfaceType,
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    UnionType,
)

from backhaul.core.graphql.embedded import check_query, current_user_id, run_query_as
from backhaul.core.graphql.errors import GraphQLUserError, PermissionDenied
from backhaul.core.graphql.execution import Context
from backhaul.core.graphql.loaders import Loader, current_loader, load, load_many, load_related
from backhaul.core.graphql.names import camel, parse_id, set_aliases, snake
from backhaul.core.graphql.pagination import (
    Connection,
    apply_filters,
    connection_sdl,
    paginate,
    paginate_list,
    sort_order,
)
from backhaul.core.graphql.payloads import FieldErrors, mutation_payload, payload
from backhaul.core.graphql.permissions import requires
from backhaul.core.graphql.scalars import date_scalar, datetime_scalar, json_scalar

__all__ = [
    "Connection",
    "Context",
    "EnumType",
    "FieldErrors",
    "GraphQLUserError",
    "InputType",
    "InterfaceType",
    "Loader",
    "MutationType",
    "ObjectType",
    "PermissionDenied",
    "QueryType",
    "ScalarType",
    "UnionType",
    "apply_filters",
    "camel",
    "check_query",
    "connection_sdl",
    "current_user_id",
    "current_loader",
    "date_scalar",
    "datetime_scalar",
    "json_scalar",
    "load",
    "load_many",
    "load_related",
    "mutation_payload",
    "paginate",
    "paginate_list",
    "parse_id",
    "payload",
    "requires",
    "run_query_as",
    "set_aliases",
    "snake",
    "sort_order",
]
