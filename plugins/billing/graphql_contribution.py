"""Billing's GraphQL contribution: the queries (graphql.py), the mutations
(graphql_mutations.py) and the staff-UI additions (graphql_ui.py) assembled in one place, so
that none of those modules imports another that imports it back."""
from __future__ import annotations

from backhaul.sdk import GraphQLContribution

from . import graphql, graphql_ui
from .graphql_mutations import mutation


def contribution() -> GraphQLContribution:
    return GraphQLContribution(graphql.SDL + "\n" + graphql_ui.SDL,
                               (*graphql.BINDABLES, mutation, *graphql_ui.BINDABLES))
