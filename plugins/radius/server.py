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
    """Writes to the database off the packet loop, in its own app context and session:
    accounting batches (answered once committed) and "last authentication" records. While
    one batch commits, the loop keeps reading packets, so the next batch is larger: under
    load one commit serves many NASes' packets, and a slow commit never delays an
    Access-Accept."""

    def __init__(self, app, handler: Handler, send):
        super().__init__(name="radius-writer", daemon=True)
        self.app, self.handler, self.send = app, handler, send
        self.work: queue.Queue = queue.Queue()
        self.backlog = 0

    def accounting(self, batch: list) -> None:
        if batch:
            self.backlog += len(batch)
            self.work.put(("acct", batch))

    def last_auth(self, batch: dict) -> None:
        if batch and self.work.qsize() < 1000:  # far behind: answers matter more
            self.work.put(("auth", batch))

    def stop(self) -> None:
        self.work.put(None)
        self.join(timeout=10)

    def run(self) -> None:
        with self.app.app_context():
            while (job := self.work.get()) is not None:
                kind, batch = job
                if kind == "auth":
                    write_last_auth(batch)
                    continue
                while True:  # everything already queued joins this commit
                    try:
                        more = self.work.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self.work.put(None)
                        break
                    if more[0] == "acct":
                        batch = batch + more[1]
                    else:
                        write_last_auth(more[1])
                self.handler.record_accounting(batch, self.send)
                self.backlog -= len(batch)


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
        writer = _Writer(current_app._get_current_object(), handler, sockets[1].sendto)
        writer.start()
        last_upkeep = time.monotonic()
        try:
            while not stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    self._drain(key.fileobj, handler)
                writer.accounting(handler.take_accounting())
                if time.monotonic() - last_upkeep >= 1.0:
                    last_upkeep = time.monotonic()
                    directory.refresh()
                    writer.last_auth(handler.take_last_auth())
        finally:
            writer.accounting(handler.take_accounting())
            writer.last_auth(handler.take_last_auth())
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
