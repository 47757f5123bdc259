"""Staff sign-in, roles and permissions, API tokens (placeholder until the auth work lands)."""
from __future__ import annotations


def init_app(app) -> None:
    """Install authentication on ``app``."""
