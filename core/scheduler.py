"""The scheduler loop: periodic job slots and the outbox sweeper.

``backhaul scheduler`` runs it in its own process (one or several: slots are claimed through a
unique key, so two schedulers never enqueue the same slot twice). ``backhaul run`` runs it in a
background thread for the embedded, Redis-less default.
"""
from __future__ import annotations

import logging
import threading
import time

from rq import SimpleWorker

from .db import db, writing
from .jobs import enqueue_periodic, sweep

log = logging.getLogger("backhaul.scheduler")


def tick(app) -> int:
    """One pass: enqueue due periodic slots, then sweep the outbox. Returns intents dispatched."""
    contributions = app.extensions["backhaul.contributions"]
    with app.app_context(), writing():
        try:
            for job in contributions.periodic_jobs:
                try:
                    enqueue_periodic(job.name, job.func, job.every, job.queue)
                except Exception:  # one bad declaration must not stop the others or the sweep
                    db.session.rollback()
                    log.exception("could not enqueue periodic job '%s'", job.name)
            return sweep()
        finally:
            db.session.remove()


def run(app, interval: float = 1.0, once: bool = False,
        stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            tick(app)
        except Exception:
            log.exception("scheduler tick failed; trying again")
        if once:
            return
        stop.wait(interval)


def start_in_thread(app, interval: float = 2.0) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run, args=(app, interval, False, stop), daemon=True,
                     name="backhaul-scheduler").start()
    return stop


def run_worker(app, queues: list[str], burst: bool = False) -> None:
    """Run an RQ SimpleWorker (no fork: one DB pool per process) inside an app context.

    A burst worker (exits when the queues are empty) does not listen on RQ's command channel:
    there is nothing to stop, and leaving that listener costs a second per run.
    """
    backend = app.extensions["backhaul.jobs"]
    if backend.redis is None:
        raise RuntimeError("BACKHAUL_REDIS_URL is not set: jobs run in-process and need no "
                           "worker. Set it to use Redis and RQ workers.")
    worker_class = BurstWorker if burst else SimpleWorker
    with app.app_context():
        worker = worker_class([backend.queue(q) for q in queues], connection=backend.redis)
        started = time.monotonic()
        worker.work(burst=burst, logging_level="WARNING")
        log.info("worker stopped after %.1fs", time.monotonic() - started)


class BurstWorker(SimpleWorker):
    """A worker for ``--burst`` runs: no command-channel listener to start and stop."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass
