"""A long-running service: ``backhaul serve example.greeter`` greets the newest account.

The shape every long-running service has (RADIUS, NetFlow, pollers): loop until ``stop`` is
set, never block longer than a moment, split work by ``shard``, report ``health``.
"""
from __future__ import annotations

import threading

from backhaul.sdk import Service, Shard


class Greeter(Service):
    name = "example.greeter"
    label = "Example greeter"
    heartbeat_seconds = 5.0

    def __init__(self):
        self.rounds = 0

    def run(self, stop: threading.Event, shard: Shard) -> None:
        while not stop.wait(0.5):  # a real service would read a socket with a short timeout
            self.rounds += 1

    def health(self) -> dict:
        return {"rounds": self.rounds}
