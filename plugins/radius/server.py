"""``backhaul serve radius.server``: the RADIUS server process.

Two UDP sockets (authentication and accounting ports, from the plugin's settings) opened
with SO_REUSEPORT, so several processes on one machine share the ports and the kernel
spreads the NASes over them; each process handles its datagrams one at a time in its main
thread with everything it needs in memory (:mod:`.directory`), and checks for stale answers
and flushes its "last authentication" records once a second. Accounting is answered once
on local disk (:mod:`.journal`) and written to the database behind, in batches.
"""
from __future__ import annotations

import logging
import os
import queue
import selectors
import socket
import threading
import time

import sqlalchemy as sa
from flask import current_app

from backhaul.sdk import current_plugin_settings, db
from backhaul.sdk.services import Service

from . import accounting
from .directory import Directory
from .handler import Handler, as_item, write_last_auth
from .journal import Journal
from .journal import orphans as journal_orphans

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


#: updates answered but not yet committed beyond which accounting is no longer answered
#: (the NASes retransmit, and keep their own buffers) until the database catches up
MAX_BACKLOG = 200_000
#: with a journal, the writer lets updates gather this long (or to this many) per commit
GATHER_SECONDS = 0.2
GATHER_MAX = 5000
#: seconds between looks for journal segments a dead process left behind
ORPHAN_SECONDS = 60.0


class _Writer(threading.Thread):
    """Writes to the database off the packet loop, in its own app context and session:
    accounting batches and "last authentication" records. While one batch commits, the
    loop keeps reading packets, so the next batch is larger: under load one commit serves
    many NASes' packets, and a slow commit never delays an Access-Accept.

    With a journal, accounting is already answered: a batch that fails is retried (with
    backoff while the database is unreachable; one update at a time when the database
    answers but the batch still fails, so one bad update cannot hold back the rest).
    Without one, a batch is answered once committed, or not at all."""

    def __init__(self, app, handler: Handler, send, journal: Journal | None):
        super().__init__(name="radius-writer", daemon=True)
        self.app, self.handler, self.send, self.journal = app, handler, send, journal
        self.work: queue.Queue = queue.Queue()
        self.backlog = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._orphans_at = 0.0

    def accounting(self, batch: list, segment: int | None = None) -> None:
        if batch:
            with self._lock:  # the packet loop adds, the writer thread subtracts
                self.backlog += len(batch)
            self.work.put(("acct", batch, segment))

    def last_auth(self, batch: dict) -> None:
        if batch and self.work.qsize() < 1000:  # far behind: answers matter more
            self.work.put(("auth", batch, None))

    def stop(self) -> None:
        self.stopping.set()
        self.work.put(None)
        self.join(timeout=10)

    def run(self) -> None:
        with self.app.app_context():
            while True:
                try:
                    job = self.work.get(timeout=1.0)
                except queue.Empty:
                    self._replay_orphans()
                    continue
                if job is None:
                    break
                kind, batch, segment = job
                if kind == "auth":
                    write_last_auth(batch)
                    continue
                batch, counts = list(batch), {segment: len(batch)}
                # journaled updates are already answered: wait a moment for more to join
                # this commit (a statement serves thousands as cheaply as tens)
                gather_until = time.monotonic() + (GATHER_SECONDS if self.journal else 0)
                while True:  # everything already queued joins this commit
                    try:
                        wait = gather_until - time.monotonic()
                        if wait <= 0 or len(batch) >= GATHER_MAX or self.stopping.is_set():
                            more = self.work.get_nowait()
                        else:
                            more = self.work.get(timeout=wait)
                    except queue.Empty:
                        break
                    if more is None:
                        self.work.put(None)
                        break
                    if more[0] == "acct":
                        batch.extend(more[1])
                        counts[more[2]] = counts.get(more[2], 0) + len(more[1])
                    else:
                        write_last_auth(more[1])
                if self.journal is None:
                    self.handler.record_accounting(batch, self.send)
                else:
                    if self._apply_journaled(batch):
                        self.journal.applied(counts)
                with self._lock:
                    self.backlog -= len(batch)
                self._replay_orphans()

    def _apply_journaled(self, batch: list) -> bool:
        """True when the batch is done with (committed, or its bad updates dropped and
        logged); False when the server stops while the database is unreachable: the batch
        then stays in the journal, for the next process to apply."""
        items = [as_item(p) for p in batch]
        delay = 0.5
        while not self.handler.apply(items):
            if _database_answers():
                for item in items:  # one bad update is dropped, not the batch
                    if not self.handler.apply([item]):
                        self.handler.drops["not recorded"] += 1
                return True  # done with: applied, or dropped and logged
            if self.stopping.is_set():
                return False  # still in the journal: the next process applies it
            self.handler.drops["database unreachable (retrying)"] += 1
            self.stopping.wait(delay)
            delay = min(delay * 2, 30.0)
        return True

    def _replay_orphans(self) -> None:
        if self.journal is None or time.monotonic() - self._orphans_at < ORPHAN_SECONDS:
            return
        self._orphans_at = time.monotonic()
        try:
            replay_orphans(self.journal.directory)
        except Exception:
            db.session.rollback()
            log.exception("replaying accounting journals left behind failed; retried later")


def _database_answers() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
        return True
    except Exception:
        db.session.rollback()
        return False


def replay_orphans(directory, chunk: int = 2000) -> int:
    """Apply the journal segments of processes that are gone (crashed, or stopped while the
    database was unreachable), then delete them. Returns the updates applied."""
    total = 0
    for path, items in journal_orphans(directory):
        for at in range(0, len(items), chunk):
            accounting.record_many(items[at:at + chunk])
            db.session.commit()
        path.unlink(missing_ok=True)
        total += len(items)
        log.info("accounting journal %s replayed: %d update(s)", path.name, len(items))
    return total


def journal_directory(settings: dict) -> str | None:
    if not settings["accounting_journal"]:
        return None
    return settings["journal_dir"] or os.path.join(current_app.instance_path, "radius-journal")


class RadiusServer(Service):
    name = "radius.server"
    label = "RADIUS server (authentication and accounting)"
    heartbeat_seconds = 5.0
    grace_seconds = 5.0

    def __init__(self):
        self.handler: Handler | None = None
        self.journal: Journal | None = None
        self.writer: _Writer | None = None

    def run(self, stop, shard) -> None:
        settings = current_plugin_settings("radius")
        directory = Directory()
        directory.refresh(force=True)
        loaded = directory.preload()
        self.handler = handler = Handler(directory, settings)
        folder = journal_directory(settings)
        if folder:
            replayed = replay_orphans(folder)
            self.journal = Journal(folder)
        host = settings["bind"]
        sockets = [_socket(host, settings["auth_port"]), _socket(host, settings["acct_port"])]
        log.info("RADIUS listening on %s ports %s/%s for %d NAS(es), %d login(s) in memory; "
                 "accounting %s", host, settings["auth_port"], settings["acct_port"],
                 len(directory.nases), loaded,
                 f"journaled in {folder} ({replayed} replayed)" if folder
                 else "answered once committed")
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        self.writer = writer = _Writer(current_app._get_current_object(), handler,
                                       sockets[1].sendto, self.journal)
        writer.start()
        last_upkeep = time.monotonic()
        try:
            while not stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    self._drain(key.fileobj, handler)
                self._accounting(handler.take_accounting(), sockets[1].sendto)
                if time.monotonic() - last_upkeep >= 1.0:
                    last_upkeep = time.monotonic()
                    directory.refresh()
                    writer.last_auth(handler.take_last_auth())
        finally:
            self._accounting(handler.take_accounting(), sockets[1].sendto)
            writer.last_auth(handler.take_last_auth())
            writer.stop()
            if self.journal is not None:
                left = self.journal.close()
                if left:
                    log.warning("%d accounting update(s) answered but not yet in the "
                                "database stay in the journal for the next start", left)
            for sock in sockets:
                sock.close()

    def _accounting(self, pending: list, send) -> None:
        """Hand this loop's accounting updates on: without a journal to the writer (which
        answers after the commit); with one, to disk, answered, then to the writer."""
        if not pending:
            return
        if self.journal is None:
            self.writer.accounting(pending)
            return
        if self.writer.backlog > MAX_BACKLOG:
            self.handler.drops["backlog full (not answered)"] += len(pending)
            return
        try:
            segment = self.journal.append([as_item(p) for p in pending])
        except OSError:
            log.exception("accounting journal refused %d update(s): not answered",
                          len(pending))
            self.handler.drops["journal write failed"] += len(pending)
            return
        self.handler.answer(pending, send)
        self.writer.accounting(pending, segment)

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
        if not self.handler:
            return {}
        health = self.handler.health()
        if self.writer is not None:
            health["accounting_backlog"] = self.writer.backlog
        return health
