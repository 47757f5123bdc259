"""Who is acting right now: a staff user, an API token, a job, a plugin or the system.

Set by the auth layer per request and by the job runner per job; read by the audit trail.
A context variable, so threads and requests never see each other's actor.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # user | token | job | plugin | system | anonymous
    id: str | None = None
    label: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.label or self.id or '-'}"


SYSTEM = Actor("system", None, "system")
_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("backhaul_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor) -> contextvars.Token:
    return _current.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
