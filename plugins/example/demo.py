"""Demo data for ``backhaul demo load``. Idempotent: each record is looked up by its key
before it is created, so running the command twice changes nothing.
"""
from __future__ import annotations

from .greetings import greet

DEMO_NAMES = ("World", "Backhaul operators")


def load() -> None:
    for name in DEMO_NAMES:
        greet(name, key=f"demo:{name}")
