"""The GraphQL endpoint (placeholder until the GraphQL work lands)."""
from __future__ import annotations


def init_app(app) -> None:
    """Assemble the schema from the core's SDL and every plugin's contribution."""
