"""The GraphQL endpoint: one schema per app, assembled from the core and every plugin.

* :mod:`.schema` — core SDL, assembly of contributions, default-deny check;
* :mod:`.permissions` — ``@requires`` / ``@public`` / :func:`requires`;
* :mod:`.limits` — depth, aliases, tokens and cost, checked before execution;
* :mod:`.ratelimit` — requests per token per window, with ``RateLimit-*`` headers;
* :mod:`.fastpath` — the executor of error-free queries (graphql-core answers the rest);
* :mod:`.execution` — parse, validate, execute (framework-free);
* :mod:`.view` — ``/graphql`` (POST queries, GET the explorer page);
* :mod:`.pagination`, :mod:`.loaders`, :mod:`.scalars` — helpers re-exported by
  ``backhaul.sdk.graphql`` for plugin authors.
"""
from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLSchema

from .limits import Limits
from .ratelimit import RateLimiter
from .schema import build


@dataclass
class GraphQLState:
    """``app.extensions["backhaul.graphql"]``."""

    schema: GraphQLSchema
    limits: Limits
    rate_limiter: RateLimiter | None = None


def init_app(app) -> None:
    """Assemble the schema from the core's SDL and every plugin's contribution; serve it."""
    from .view import create_blueprint

    plugins = app.extensions["backhaul.plugins"]
    contributions = app.extensions["backhaul.contributions"]

    def fail(plugin: str, reason: str) -> None:
        contributions.drop_plugin(plugin)
        plugins.fail(plugin, reason)
        for record in plugins.records.values():
            if record.status == "failed":
                contributions.drop_plugin(record.name)

    known = frozenset(p.name for p in contributions.permissions)
    schema = build(contributions.graphql, fail=fail, known_permissions=known,
                   is_enabled=plugins.is_enabled)
    app.extensions["backhaul.graphql"] = GraphQLState(schema, Limits.from_config(app.config),
                                                      RateLimiter.from_config(app.config))
    app.register_blueprint(create_blueprint())
