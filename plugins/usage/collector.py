"""``backhaul serve usage.collector``: the NetFlow v5/v9/IPFIX collector process.

One UDP socket (SO_REUSEPORT, so several processes share the port; the kernel keeps each
exporter on one process, which keeps its templates there). Datagrams are decoded as they
arrive (:mod:`.netflow`, bounded work per datagram); the flows of about a second are then
attributed (:mod:`.attribution`) and rolled up (:mod:`.rollup`) in one transaction on a
writer thread (see :class:`Collector`), with
the templates learned meanwhile, so a template is persisted no later than the first flows
it decoded. Templates (and IPFIX exporters' clocks, systemInitTimeMilliseconds) are loaded
back at start: a restart does not lose them.
"""
from __future__ import annotations

import logging
import selectors
import socket
import struct
import threading
import time
from collections import Counter, defaultdict, deque
from queue import Queue

import sqlalchemy as sa

from backhaul.sdk import current_plugin_settings, db, utcnow
from backhaul.sdk.services import Service

from . import caps, rollup
from .attribution import Attributor
from .models import ExporterClock, Template
from .models import Flow as FlowRow
from .netflow import Malformed, Sequence, Templates, decode

log = logging.getLogger("backhaul.usage")
MAX_DATAGRAM = 65535
#: flows decoded and not yet handed to the writer (about 250 bytes each)
MAX_PENDING_FLOWS = 300_000
#: datagrams waiting between the reader thread and the decoder (about 100 MB at most)
MAX_QUEUE = 100_000
RECEIVE_BUFFER = 64 * 1024 * 1024
STAT_KEYS = ("packets", "flows", "malformed", "lost", "missing_template", "options_records",
             "templates_learned", "unattributed_flows", "unknown_exporter_packets",
             "flush_errors", "flows_dropped", "errors")


def load_templates() -> dict[str, Templates]:
    out: dict[str, Templates] = defaultdict(Templates)
    for row in db.session.scalars(sa.select(Template)):
        fields = tuple(tuple(int(x) for x in f) for f in row.fields)
        out[row.exporter].by_key[(row.version, row.domain, row.template_id)] = (
            fields, bool(row.options))
    for clock in db.session.scalars(sa.select(ExporterClock)):
        out[clock.exporter].system_init[(clock.version, clock.domain)] = clock.init_ms
    return out


def save_clocks(clocks: dict[tuple, int]) -> None:
    now = utcnow()
    for (exporter, version, domain), init_ms in clocks.items():
        row = db.session.get(ExporterClock, (exporter, version, domain))
        if row is None:
            db.session.add(ExporterClock(exporter=exporter, version=version, domain=domain,
                                         init_ms=init_ms, updated_at=now))
        else:
            row.init_ms, row.updated_at = init_ms, now


def save_templates(rows: dict[tuple, tuple]) -> None:
    now = utcnow()
    for (exporter, version, domain, template_id), (fields, options) in rows.items():
        row = db.session.get(Template, (exporter, version, domain, template_id))
        if row is None:
            db.session.add(Template(exporter=exporter, version=version, domain=domain,
                                    template_id=template_id, fields=[list(f) for f in fields],
                                    options=options, updated_at=now))
        else:
            row.fields, row.options, row.updated_at = [list(f) for f in fields], options, now


class Pipeline:
    """Decode, then attribute and roll up in batches; usable without a socket (tests,
    benchmarks)."""

    def __init__(self, settings: dict, attributor: Attributor | None = None):
        self.settings = settings
        allowed = str(settings.get("exporters") or "").replace(" ", "")
        self.allowed = {a for a in allowed.split(",") if a}
        self.templates = load_templates()
        self.sequence = Sequence()
        self.attributor = attributor or Attributor()
        self.pending: dict[str, list] = defaultdict(list)
        self.pending_count = 0
        self.new_templates: dict[tuple, tuple] = {}
        self.new_clocks: dict[tuple, int] = {}
        self.stats: Counter = Counter({k: 0 for k in STAT_KEYS})
        self.exporters: set[str] = set()
        self.unknown_exporters: set[str] = set()
        self.started = time.time()
        self.last_packet_at: float | None = None
        #: services whose usage grew since the caps were last checked
        self.to_check: set[int] = set()
        self.caps_every = float(settings.get("caps_seconds") or 60)
        self.caps_checked = 0.0
        #: datagrams the reader thread had to drop (the decoder fell too far behind)
        self.queue_drops = 0

    def feed(self, data: bytes, exporter: str) -> None:
        self.stats["packets"] += 1
        self.last_packet_at = time.time()
        if self.allowed and exporter not in self.allowed:
            self.stats["unknown_exporter_packets"] += 1
            if len(self.unknown_exporters) < 100:
                self.unknown_exporters.add(exporter)
            return
        self.exporters.add(exporter)
        templates = self.templates[exporter]
        clocks = dict(templates.system_init)
        try:
            decoded = decode(data, templates)
        except (Malformed, struct.error, ValueError) as exc:
            self._clocks_changed(exporter, clocks, templates)
            self.stats["malformed"] += 1
            log.debug("malformed NetFlow from %s: %s", exporter, exc)
            return
        key = (exporter, decoded.version, decoded.domain)
        self._clocks_changed(exporter, clocks, templates)
        self.stats["lost"] += self.sequence.check(key, decoded.sequence, decoded.advance)
        self.stats["missing_template"] += decoded.missing_template
        self.stats["options_records"] += decoded.options_records
        for template_id, fields, options in decoded.templates:
            self.stats["templates_learned"] += 1
            self.new_templates[(exporter, decoded.version, decoded.domain, template_id)] = (
                fields, options)
        if decoded.flows:
            self.stats["flows"] += len(decoded.flows)
            self.pending[exporter].extend(decoded.flows)
            self.pending_count += len(decoded.flows)

    def _clocks_changed(self, exporter: str, before: dict, templates: Templates) -> None:
        if templates.system_init != before:
            for (version, domain), init_ms in templates.system_init.items():
                if before.get((version, domain)) != init_ms:
                    self.new_clocks[(exporter, version, domain)] = init_ms

    def flush(self) -> int:
        """Attribute and roll up what is pending, in one transaction. Returns flows."""
        batch = self.take()
        return self.write(batch) if batch is not None else 0

    def take(self) -> tuple | None:
        """What is pending, handed over (the decoding side goes on with empty buffers);
        None when there is nothing to write."""
        if not (self.pending_count or self.new_templates or self.new_clocks or self.to_check):
            return None
        batch = (self.pending, self.pending_count, self.new_templates, self.new_clocks)
        self.pending, self.pending_count = defaultdict(list), 0
        self.new_templates, self.new_clocks = {}, {}
        return batch

    def write(self, batch: tuple) -> int:
        """Attribute and roll up a batch from :meth:`take` in one transaction (the service
        does this on its writer thread). Returns flows."""
        pending, count, templates, clocks = batch
        try:
            hours, unknown, raw = {}, {}, []
            keep_raw = int(self.settings.get("raw_flow_hours") or 0) > 0
            for exporter, flows in pending.items():
                h, u, holders = self.attributor.attribute(exporter, flows, holders=keep_raw)
                for key, (down, up) in h.items():  # several exporters may see one service
                    pair = hours.setdefault(key, [0, 0])
                    pair[0] += down
                    pair[1] += up
                unknown.update(u)
                self.stats["unattributed_flows"] += sum(v[1] for v in u.values())
                if keep_raw:
                    raw += [dict(at=f.at, exporter=exporter, src=f.src, dst=f.dst,
                                 bytes=f.bytes, packets=f.packets, subscription_id=h)
                            for f, h in zip(flows, holders, strict=True)]
            save_templates(templates)
            save_clocks(clocks)
            services = rollup.add_hours(hours)
            rollup.add_unattributed(unknown)
            if raw:
                db.session.execute(sa.insert(FlowRow.__table__), raw)
            self.to_check |= services
            if self.to_check and time.monotonic() - self.caps_checked >= self.caps_every:
                self.caps_checked = time.monotonic()
                caps.check(self.to_check)
                self.to_check = set()
            db.session.commit()
        except Exception:
            db.session.rollback()
            self.stats["flush_errors"] += 1
            self.stats["flows_dropped"] += count
            log.exception("usage flush failed; %d flow(s) dropped", count)
            return 0
        return count

    def health(self) -> dict:
        """Called from the heartbeat thread while the main thread counts: a copy made while
        a new key or exporter appears is simply taken again."""
        for _ in range(5):
            try:
                return self._health()
            except RuntimeError:  # "changed size during iteration"
                time.sleep(0.01)
        return {"packets": self.stats.get("packets", 0)}

    def _health(self) -> dict:
        elapsed = max(1e-6, time.time() - self.started)
        out = dict(self.stats)
        out.update(exporters=sorted(self.exporters)[:50],
                   unknown_exporters=sorted(self.unknown_exporters),
                   templates=sum(len(t.by_key) for t in self.templates.values()),
                   packets_per_s=round(self.stats["packets"] / elapsed, 2),
                   flows_per_s=round(self.stats["flows"] / elapsed, 2),
                   last_packet_at=self.last_packet_at, queue_drops=self.queue_drops)
        return out


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # a large receive buffer rides out a slow flush; past net.core.rmem_max only as root
    for option in ("SO_RCVBUFFORCE", "SO_RCVBUF"):
        try:
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, option, 33),
                            RECEIVE_BUFFER)
            break
        except OSError:
            continue
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


class Collector(Service):
    """Three threads. A reader only drains the socket into a bounded queue (``recvfrom``
    releases the GIL), so datagrams keep being taken off the kernel's buffer whatever else
    happens; the main thread decodes; a writer attributes and commits the batch the main
    thread hands over about once a second — or, while the writer is still busy, as soon as
    it is free: the batch has grown meanwhile, and its cost is about a row per service and
    hour whatever its flows, so a slow database gets fewer, bigger batches instead of a
    backlog. Database round trips release the GIL, so decoding goes on while a batch is
    written; past :data:`MAX_PENDING_FLOWS` decoding waits for the writer (the reader's
    queue absorbs that)."""

    name = "usage.collector"
    label = "NetFlow v5/v9/IPFIX collector"
    heartbeat_seconds = 5.0
    grace_seconds = 10.0

    def __init__(self):
        self.pipeline: Pipeline | None = None

    def run(self, stop, shard) -> None:
        from flask import current_app

        settings = current_plugin_settings("usage")
        self.pipeline = pipeline = Pipeline(settings)
        sock = _socket(settings["bind"], settings["netflow_port"])
        log.info("NetFlow collector on %s:%s (%d template(s) loaded)", settings["bind"],
                 settings["netflow_port"], sum(len(t.by_key) for t in
                                               pipeline.templates.values()))
        queue: deque = deque()
        reading = threading.Event()
        reading.set()
        reader = threading.Thread(target=self._read, args=(sock, queue, reading, pipeline),
                                  name="usage-collector-reader", daemon=True)
        reader.start()
        batches: Queue = Queue(maxsize=1)
        writing = threading.Event()  # set from hand-over until the batch is committed
        writer = threading.Thread(target=self._write,
                                  args=(current_app._get_current_object(), batches, pipeline,
                                        writing),
                                  name="usage-collector-writer", daemon=True)
        writer.start()
        every = float(settings.get("flush_seconds") or 1.0)
        last_flush = time.monotonic()
        try:
            while not stop.is_set():
                if not self._feed(queue, pipeline):
                    time.sleep(0.005)
                now = time.monotonic()
                # a busy writer makes the next batch bigger rather than the backlog longer:
                # a batch costs about a row per service and hour, whatever its flows
                due = now - last_flush >= every and not writing.is_set()
                if due or pipeline.pending_count >= MAX_PENDING_FLOWS:
                    last_flush = now
                    batch = pipeline.take()
                    if batch is not None:
                        writing.set()
                        batches.put(batch)
        finally:
            reading.clear()
            reader.join(timeout=2)
            while self._feed(queue, pipeline):
                if pipeline.pending_count >= MAX_PENDING_FLOWS:
                    batches.put(pipeline.take())
            batch = pipeline.take()
            if batch is not None:
                batches.put(batch)
            batches.put(None)
            writer.join(timeout=self.grace_seconds)
            sock.close()

    @staticmethod
    def _write(app, batches: Queue, pipeline: Pipeline, writing: threading.Event) -> None:
        """The writer thread: each batch in its own transaction, in its own app context
        (its own database session); the address cache is forgotten every minute."""
        with app.app_context():
            last_forget = time.monotonic()
            try:
                while (batch := batches.get()) is not None:
                    try:
                        pipeline.write(batch)
                    except Exception:  # write() counts its own failures; never stop here
                        pipeline.stats["errors"] += 1
                        log.exception("usage writer: batch lost")
                    if batches.empty():
                        writing.clear()
                    if time.monotonic() - last_forget >= 60:
                        last_forget = time.monotonic()
                        pipeline.attributor.forget()
            finally:
                db.session.remove()

    @staticmethod
    def _read(sock, queue: deque, reading: threading.Event, pipeline: Pipeline) -> None:
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        while reading.is_set():
            if not selector.select(timeout=0.2):
                continue
            for _ in range(4096):
                try:
                    data, source = sock.recvfrom(MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # the socket closed under us: stopping
                    return
                if len(queue) >= MAX_QUEUE:
                    pipeline.queue_drops += 1
                else:
                    queue.append((data, source[0]))

    @staticmethod
    def _feed(queue: deque, pipeline: Pipeline, budget: int = 2000) -> int:
        done = 0
        while queue and done < budget and pipeline.pending_count < MAX_PENDING_FLOWS:
            data, exporter = queue.popleft()
            done += 1
            try:
                pipeline.feed(data, exporter)
            except Exception:  # one bad datagram never stops the collector
                pipeline.stats["errors"] += 1
                log.exception("NetFlow datagram from %s failed", exporter)
        return done

    def health(self) -> dict:
        return self.pipeline.health() if self.pipeline else {}
