"""Running a contributed long-running service: ``backhaul serve NAME [--shard I/N]``.

The process runs the service's ``run(stop, shard)`` in its main thread, inside an app
context. SIGTERM/SIGINT set ``stop``; a heartbeat thread records ``health()`` every
``heartbeat_seconds`` in ``core_service_heartbeat`` (one row per service and shard), which the
Plugins page reads. The last beat says how it ended: ``stopped`` (returned after a stop),
``failed`` (raised), ``killed`` (did not return within ``grace_seconds``).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk.services import Service, Shard

from .db import UTCDateTime, db, utcnow, writing

log = logging.getLogger("backhaul.services")


class ServiceHeartbeat(db.Model):
    __tablename__ = "core_service_heartbeat"
    __audit__ = False  # bookkeeping, written every few seconds

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(sa.String(100))
    shard: Mapped[str] = mapped_column(sa.String(16))
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column()
    #: running | stopped | failed | killed
    status: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    interval_seconds: Mapped[float] = mapped_column(sa.Float)
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = (sa.UniqueConstraint("service", "shard"),)

    def state(self, now: datetime | None = None) -> str:
        """``status``, or ``stale`` for a running service whose beats stopped arriving."""
        now = now or utcnow()
        late = now - self.beat_at > timedelta(seconds=max(3 * self.interval_seconds, 5))
        return "stale" if self.status == "running" and late else self.status


def parse_shard(text: str | None) -> Shard:
    if not text:
        return Shard()
    index, sep, count = text.partition("/")
    if not sep or not index.isdigit() or not count.isdigit():
        raise ValueError(f"--shard '{text}': give I/N, e.g. 2/4")
    return Shard(int(index), int(count))


class _Beat:
    """Writes one service's heartbeat row (its own session, committed each time)."""

    def __init__(self, app, service: Service, shard: Shard):
        self.app, self.service, self.shard = app, service, shard
        self.started = utcnow()

    def write(self, status: str, extra: dict | None = None) -> None:
        try:
            detail = dict(self.service.health() or {})
        except Exception as exc:  # health must not take the service down
            detail = {"health_error": f"{type(exc).__name__}: {exc}"}
        detail.update(extra or {})
        with self.app.app_context(), writing():  # a writer: takes SQLite's lock at BEGIN
            try:
                row = db.session.scalar(sa.select(ServiceHeartbeat).where(
                    ServiceHeartbeat.service == self.service.name,
                    ServiceHeartbeat.shard == str(self.shard))) or ServiceHeartbeat(
                    service=self.service.name, shard=str(self.shard))
                row.host, row.pid, row.status = socket.gethostname()[:255], os.getpid(), status
                row.started_at, row.beat_at = self.started, utcnow()
                row.interval_seconds, row.detail = self.service.heartbeat_seconds, detail
                db.session.add(row)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("service %s: the heartbeat could not be written",
                              self.service.name)
            finally:
                db.session.remove()


def serve(app, service: Service, shard: Shard) -> int:
    """Run ``service`` until it returns or a signal stops it; returns the exit code."""
    stop, done = threading.Event(), threading.Event()
    beat = _Beat(app, service, shard)

    def on_signal(signum, _frame):
        log.info("service %s %s: %s received, stopping", service.name, shard,
                 signal.Signals(signum).name)
        stop.set()
        threading.Thread(target=_watchdog, daemon=True).start()

    def _watchdog():
        if not done.wait(service.grace_seconds):
            log.error("service %s %s did not stop within %.0f s: ended hard", service.name,
                      shard, service.grace_seconds)
            beat.write("killed")
            os._exit(3)

    def heartbeat():
        while not stop.wait(service.heartbeat_seconds):
            beat.write("running")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    beat.write("running")
    threading.Thread(target=heartbeat, name=f"heartbeat-{service.name}", daemon=True).start()
    log.info("service %s %s started (pid %d)", service.name, shard, os.getpid())
    code = 0
    try:
        with app.app_context():
            service.run(stop, shard)
        status, extra = "stopped", {}
    except Exception as exc:
        log.exception("service %s %s failed", service.name, shard)
        status, extra, code = "failed", {"error": f"{type(exc).__name__}: {exc}"[:500]}, 1
    finally:
        done.set()
        stop.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    beat.write(status, extra)
    log.info("service %s %s %s", service.name, shard, status)
    time.sleep(0)  # let the heartbeat thread see ``stop``
    return code


def health_lines(services: dict[str, Service]) -> list[dict]:
    """One row per contributed service and recorded shard, for the Plugins page."""
    rows = db.session.scalars(sa.select(ServiceHeartbeat).order_by(
        ServiceHeartbeat.service, ServiceHeartbeat.shard)).all()
    seen: set[str] = set()
    out = []
    now = utcnow()
    for row in rows:
        seen.add(row.service)
        out.append({"service": row.service, "label": getattr(services.get(row.service),
                                                              "label", "") or row.service,
                    "shard": row.shard, "state": row.state(now), "host": row.host,
                    "pid": row.pid, "beat_at": row.beat_at, "detail": row.detail or {},
                    "known": row.service in services})
    for name, service in sorted(services.items()):
        if name not in seen:
            out.append({"service": name, "label": service.label or name, "shard": "",
                        "state": "never started", "host": "", "pid": None, "beat_at": None,
                        "detail": {}, "known": True})
    return out
