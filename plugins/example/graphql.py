"""The example plugin's part of the GraphQL schema: SDL extending the core's ``Query`` type,
and Ariadne bindables resolving it. Field names start with the plugin's name, and every root
field names the permission it needs (``@requires``); the core refuses a field without one.
"""
from __future__ import annotations

from backhaul.sdk import GraphQLContribution, current_plugin_settings
from backhaul.sdk.graphql import QueryType

from .greetings import compose

SDL = """
extend type Query {
  "A greeting composed with the example plugin's settings."
  exampleHello(name: String!): String! @requires(permission: "example.greetings.view")
}
"""


def contribution() -> GraphQLContribution:
    query = QueryType()

    @query.field("exampleHello")
    def resolve_hello(_obj, _info, name: str) -> str:
        return compose(name, current_plugin_settings("example")["greeting"])

    return GraphQLContribution(sdl=SDL, bindables=(query,))
