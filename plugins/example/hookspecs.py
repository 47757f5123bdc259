"""A hook the example plugin publishes for other plugins (``META.hookspecs``).

Any plugin may implement it with ``@hookimpl``; when the example plugin is disabled nobody
calls it, so implementers mark it ``@hookimpl(optionalhook=True)`` unless they depend on
``example``.
"""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def example_greeting_suffix(name):
    """Add a few words to the end of a greeting.

    Called by the example plugin each time it composes a greeting, for every plugin.

    :param name: who is greeted.
    :returns: a short string, or ``None`` to add nothing.
    """
