"""``backhaul serve radius.server``: the RADIUS server process.

Two UDP sockets (authentication and accounting ports, from the plugin's settings) opened
with SO_REUSEPORT, so several processes on one machine share the ports and the kernel
spreads the NASes over them; each process handles its datagrams one at a time in its main
thread with everything it needs in memory (:mod:`.directory`), and checks for stale answers
and flushes its "last authentication" records once a second.
"""
from __future__ import annotations

import logging
import selectors
import socket
import time

from backhaul.sdk import current_plugin_settings
from backhaul.sdk.services import Service

from .directory import Directory
from .handler import Handler

log = logging.getLogger("backhaul.radius")
MAX_DATAGRAM = 4096


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


class RadiusServer(Service):
    name = "radius.server"
    label = "RADIUS server (authentication and accounting)"
    heartbeat_seconds = 5.0
    grace_seconds = 5.0

    def __init__(self):
        self.handler: Handler | None = None

    def run(self, stop, shard) -> None:
        settings = current_plugin_settings("radius")
        directory = Directory()
        directory.refresh(force=True)
        self.handler = handler = Handler(directory, settings)
        host = settings["bind"]
        sockets = [_socket(host, settings["auth_port"]), _socket(host, settings["acct_port"])]
        log.info("RADIUS listening on %s ports %s/%s for %d NAS(es)", host,
                 settings["auth_port"], settings["acct_port"], len(directory.nases))
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        last_upkeep = time.monotonic()
        try:
            while not stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    self._drain(key.fileobj, handler)
                if time.monotonic() - last_upkeep >= 1.0:
                    last_upkeep = time.monotonic()
                    directory.refresh()
                    handler.flush_last_auth()
        finally:
            handler.flush_last_auth()
            for sock in sockets:
                sock.close()

    @staticmethod
    def _drain(sock, handler: Handler, budget: int = 256) -> None:
        """Answer what is waiting on ``sock`` (a bounded batch, then let the loop breathe)."""
        for _ in range(budget):
            try:
                data, source = sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                return
            try:
                reply = handler.handle(data, source)
            except Exception:  # one bad packet never stops the server
                log.exception("RADIUS packet from %s failed", source[0])
                continue
            if reply is not None:
                sock.sendto(reply, source)

    def health(self) -> dict:
        return self.handler.health() if self.handler else {}
