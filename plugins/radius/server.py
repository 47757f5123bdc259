"""``backhaul serve radius.server``: the RADIUS server process.

Two UDP sockets (authentication and accounting ports, from the plugin's settings) opened
with SO_REUSEPORT, so several processes on one machine share the ports and the kernel
spreads the NASes over them; each process handles its datagrams one at a time in its main
thread with everything it needs in memory (:mod:`.directory`), and checks for stale answers
and flushes its "last authentication" records once a second.
"""
from __future__ import annotations

import logging
import queue
import selectors
import socket
import threading
import time

from flask import current_app

from backhaul.sdk import current_plugin_settings
from backhaul.sdk.services import Service

from .directory import Directory
from .handler import Handler, write_last_auth

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


class _Writer(threading.Thread):
    """Writes "last authentication" batches off the packet loop (its own app context and
    database session), so a slow commit never delays an answer."""

    def __init__(self, app):
        super().__init__(name="radius-last-auth", daemon=True)
        self.app = app
        self.batches: queue.Queue = queue.Queue(maxsize=60)

    def put(self, batch: dict) -> None:
        if batch:
            try:
                self.batches.put_nowait(batch)
            except queue.Full:  # the database is far behind: keep answering, drop records
                log.warning("last-authentication records dropped: the writer is behind")

    def stop(self) -> None:
        self.batches.put(None)
        self.join(timeout=10)

    def run(self) -> None:
        with self.app.app_context():
            while (batch := self.batches.get()) is not None:
                write_last_auth(batch)


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
        loaded = directory.preload()
        self.handler = handler = Handler(directory, settings)
        host = settings["bind"]
        sockets = [_socket(host, settings["auth_port"]), _socket(host, settings["acct_port"])]
        log.info("RADIUS listening on %s ports %s/%s for %d NAS(es), %d login(s) in memory",
                 host, settings["auth_port"], settings["acct_port"], len(directory.nases),
                 loaded)
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        writer = _Writer(current_app._get_current_object())
        writer.start()
        last_upkeep = time.monotonic()
        try:
            acct_sock = sockets[1]
            while not stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    self._drain(key.fileobj, handler)
                handler.flush_accounting(acct_sock.sendto)
                if time.monotonic() - last_upkeep >= 1.0:
                    last_upkeep = time.monotonic()
                    directory.refresh()
                    writer.put(handler.take_last_auth())
        finally:
            handler.flush_accounting(sockets[1].sendto)
            writer.put(handler.take_last_auth())
            writer.stop()
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
