"""Greetings: the example plugin's domain logic.

:func:`compose` is a plain function (no Flask, no database) so it is tested on its own;
:func:`greet` records a greeting in the caller's transaction and enqueues its delivery,
which happens in a job after commit, never inside the request.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import call_hook, current_plugin_settings, db, enqueue, utcnow

from .models import Greeting


def compose(name: str, greeting: str = "Hello", suffixes: Iterable[str] = ()) -> str:
    """``"Hello, World!"`` plus what other plugins add (see ``example_greeting_suffix``)."""
    text = f"{greeting}, {name.strip() or 'stranger'}!"
    extra = " ".join(s.strip() for s in suffixes if s and s.strip())
    return f"{text} {extra}" if extra else text


def greet(name: str, *, account_id: int | None = None, key: str | None = None) -> Greeting:
    """Record a greeting (once per ``key``) and enqueue its delivery after commit."""
    if key is not None:
        existing = db.session.scalar(sa.select(Greeting).where(Greeting.key == key))
        if existing is not None:
            return existing
    settings = current_plugin_settings("example")
    suffixes = [answer for _, answer in call_hook("example_greeting_suffix", name=name)
                if isinstance(answer, str)]
    greeting = Greeting(name=name[:100], message=compose(name, settings["greeting"], suffixes),
                        account_id=account_id, key=key)
    db.session.add(greeting)
    db.session.flush()
    from .jobs import deliver_greeting  # jobs.py imports this module

    enqueue(deliver_greeting, greeting.id, key=f"example.deliver:{greeting.id}")
    return greeting


def find(query: str, limit: int) -> list[Greeting]:
    pattern = f"%{query.replace('%', '').replace('_', '')}%"
    return list(db.session.scalars(sa.select(Greeting).where(Greeting.name.ilike(pattern))
                                   .order_by(Greeting.id.desc()).limit(limit)))


def for_account(account_id: int, limit: int) -> list[Greeting]:
    return list(db.session.scalars(sa.select(Greeting).where(Greeting.account_id == account_id)
                                   .order_by(Greeting.created_at.desc()).limit(limit)))


def tidy(keep_days: int) -> int:
    """Delete greetings older than ``keep_days``; idempotent (a second run deletes nothing)."""
    cutoff = utcnow() - timedelta(days=keep_days)
    return db.session.execute(sa.delete(Greeting).where(Greeting.created_at < cutoff)).rowcount
