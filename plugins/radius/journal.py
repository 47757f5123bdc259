"""The accounting journal: an Accounting-Request is answered once it is on local disk.

Without it the server answers an Accounting-Request after the database committed it, so a
NAS waits for PostgreSQL and a slow or unreachable database turns into retransmissions and,
after the NAS gives up, lost usage. With it (the default), each loop's accounting updates
are appended to this process's journal segment and ``fdatasync``'d — one sync for every
update the loop read — then answered; the writer thread applies them to the database in
large batches behind. FreeRADIUS's ``detail`` file read back by ``buffered-sql`` is the same
design.

Crash safety does not need a record of what was applied: the accounting rules
(:func:`.accounting._apply`: totals only grow, a stopped session stays stopped, an
Accounting-On ends only sessions last heard of before it) make applying an update twice
harmless. So a segment is deleted once everything in it is committed, and a segment left
behind by a process that died is applied again, whole, by the next process that starts (or
by a running one, once a minute). A segment is owned through an exclusive ``flock`` for its
writer's lifetime: nobody replays a live process's segment.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .accounting import Item, Update

log = logging.getLogger("backhaul.radius.journal")

SUFFIX = ".acct-journal"
#: a segment this large is closed and a new one started (deleted once applied)
SEGMENT_BYTES = 8 * 1024 * 1024
#: the longest line a segment may hold (one update); longer is corruption, skipped
MAX_LINE = 4096


def encode(item: Item) -> bytes:
    u = item.update
    return json.dumps([item.device_id, u.status, u.session_id, u.username, u.at.timestamp(),
                       u.input_octets, u.output_octets, u.session_time, u.framed_ip,
                       u.calling_station, u.terminate_cause, item.subscription_id,
                       item.account_id, item.source], separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Item:
    (device_id, status, session_id, username, at, in_octets, out_octets, session_time,
     framed_ip, calling_station, cause, subscription_id, account_id, source) = json.loads(line)
    update = Update(status=int(status), session_id=str(session_id), username=str(username),
                    at=datetime.fromtimestamp(float(at), UTC), input_octets=int(in_octets),
                    output_octets=int(out_octets), session_time=int(session_time),
                    framed_ip=framed_ip, calling_station=calling_station,
                    terminate_cause=cause)
    return Item(int(device_id), update, subscription_id, account_id, str(source))


class _Segment:
    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.size = self.appended = self.applied = 0
        self.closed = False

    def finished(self) -> bool:
        return self.closed and self.applied >= self.appended


class Journal:
    """This process's journal: :meth:`append` (packet loop) and :meth:`applied` (writer
    thread) may be called from different threads."""

    def __init__(self, directory: str | Path, segment_bytes: int = SEGMENT_BYTES):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._segments: dict[int, _Segment] = {}
        self._seq = 0
        self._current = self._open()

    def _open(self) -> int:
        self._seq += 1
        name = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}-{self._seq}{SUFFIX}"
        self._segments[self._seq] = _Segment(self.directory / name)
        return self._seq

    def append(self, items: list[Item]) -> int:
        """Write ``items`` and sync them to disk; returns the segment they are in (for
        :meth:`applied`). Raises ``OSError`` when the disk refuses: then nothing may be
        answered."""
        data = b"".join(encode(item) for item in items)
        with self._lock:
            seq = self._current
            segment = self._segments[seq]
            os.write(segment.fd, data)
            os.fdatasync(segment.fd)
            segment.size += len(data)
            segment.appended += len(items)
            if segment.size >= self.segment_bytes:
                segment.closed = True
                self._current = self._open()
                self._forget_finished()
        return seq

    def applied(self, counts: dict[int, int]) -> None:
        """``counts[segment]`` more updates of that segment are committed."""
        with self._lock:
            for seq, n in counts.items():
                if seq in self._segments:
                    self._segments[seq].applied += n
            self._forget_finished()

    def backlog(self) -> int:
        with self._lock:
            return sum(s.appended - s.applied for s in self._segments.values())

    def close(self) -> int:
        """At shutdown: segments fully applied are deleted, the rest stay for the next
        process to replay. Returns how many updates were left unapplied."""
        with self._lock:
            for segment in self._segments.values():
                segment.closed = True
            left = sum(s.appended - s.applied for s in self._segments.values())
            self._forget_finished()
            for segment in self._segments.values():
                os.close(segment.fd)  # releases the lock: replayable
            self._segments.clear()
        return left

    def _forget_finished(self) -> None:
        for seq in [seq for seq, s in self._segments.items() if s.finished()]:
            segment = self._segments.pop(seq)
            segment.path.unlink(missing_ok=True)
            os.close(segment.fd)


def orphans(directory: str | Path) -> Iterator[tuple[Path, list[Item]]]:
    """Segments no live process owns, each read whole and still locked while the caller
    applies it: yields (path, items); the caller deletes the path once committed, and the
    lock is released here when the caller asks for the next one."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive and writing it
            if not path.exists():
                continue  # applied and deleted between the glob and the lock
            items, bad = [], 0
            with os.fdopen(os.dup(fd), "rb") as stream:
                for line in stream:
                    if len(line) > MAX_LINE or not line.endswith(b"\n"):
                        bad += 1  # torn last line of a crash (never answered) or garbage
                        continue
                    try:
                        items.append(decode(line))
                    except (ValueError, TypeError, OverflowError):
                        bad += 1
            if bad:
                log.warning("accounting journal %s: %d unreadable line(s) skipped",
                            path.name, bad)
            yield path, items
        finally:
            os.close(fd)
