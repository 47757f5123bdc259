"""Long-running services: one shape for every process a plugin keeps running.

A RADIUS server, a NetFlow collector, a device poller, an inbound-mail listener: each is a
:class:`Service` returned from the ``long_running_services`` hook and started by the
operator with ``backhaul serve NAME [--shard I/N]`` (one process per service and shard,
under systemd, a container runtime or supervisord). The core gives every service the same:

* **graceful shutdown** — SIGTERM or SIGINT sets ``stop``; ``run`` returns soon after (finish
  the packet in hand, flush, close sockets). A service still running ``grace_seconds`` later
  is ended hard and reported ``killed``;
* **health** — every ``heartbeat_seconds`` the core records ``health()`` with a time stamp
  (a heartbeat in the database); the Plugins page shows one line per service and shard, and
  a line whose heartbeat stopped arriving shows as *stale*;
* **sharding** — ``--shard 2/4`` hands ``run`` a :class:`Shard`; split the work with
  ``shard.owns(key)`` (a stable hash), so four pollers share the devices without overlap.

::

    class Collector(Service):
        name = "usage.netflow"            # "<plugin>.<service>"
        label = "NetFlow collector"

        def run(self, stop, shard):
            with open_socket() as sock:
                while not stop.is_set():
                    packet = sock.receive(timeout=0.5)   # never block past a second
                    ...

        def health(self):
            return {"flows": self.flows, "last_packet": self.last_at}

    @hookimpl
    def long_running_services():
        return [Collector()]

``run`` executes inside an app context (database, settings, ``enqueue``); it must not commit
half a unit of work when it stops. ``health`` is called from another thread: read, do not
change, and keep it fast.
"""
from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Shard:
    """This process's part of the work: shard ``index`` (1-based) of ``count``."""

    index: int = 1
    count: int = 1

    def __post_init__(self):
        if not (1 <= self.index <= self.count):
            raise ValueError(f"shard {self.index}/{self.count}: give I/N with 1 <= I <= N")

    def owns(self, key: Any) -> bool:
        """Whether this shard handles ``key`` (an id, a device name...): stable across runs
        and processes (CRC-32 of its text, not Python's per-process ``hash``)."""
        return zlib.crc32(str(key).encode()) % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class Service:
    """A long-running process contributed by a plugin (see the module docstring)."""

    #: unique, ``"<plugin>.<service>"``: the NAME of ``backhaul serve NAME``
    name: ClassVar[str] = ""
    #: shown on the Plugins page
    label: ClassVar[str] = ""
    #: how often health is recorded
    heartbeat_seconds: ClassVar[float] = 10.0
    #: how long ``run`` may take to return after ``stop`` is set
    grace_seconds: ClassVar[float] = 30.0

    def run(self, stop: threading.Event, shard: Shard) -> None:
        """Do the work until ``stop`` is set, then return. Raising marks the service failed
        (the process exits non-zero, so a supervisor restarts it)."""
        raise NotImplementedError

    def health(self) -> dict:
        """A small JSON-able summary for the Plugins page (``{"packets": 1234}``)."""
        return {}


def health(name: str) -> list[dict]:
    """The recorded health of service ``name``: one dict per running process/shard
    (``shard``, ``state`` — running, stale, stopped, failed, killed —, ``host``, ``pid``,
    ``beat_at`` and ``detail``, what its ``health()`` returned), for a plugin's own page."""
    from backhaul.core.services import health_lines

    return [row for row in health_lines({}) if row["service"] == name]


__all__ = ["Service", "Shard", "health"]
