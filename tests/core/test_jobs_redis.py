"""Jobs over a real Redis with real RQ workers (in-process SimpleWorker and `backhaul worker`
subprocesses): delivery, outages, duplicates, retries, dead workers, racing schedulers."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Blueprint

from backhaul.core import scheduler
from backhaul.core.db import db, utcnow
from backhaul.core.jobs import enqueue, run_intent, sweep
from backhaul.core.models import JobIntent
from backhaul.plugins.example.models import Greeting
from backhaul.sdk import PeriodicJob, Permission, permission_required
from backhaul.sdk.testing import app_environ, free_port, run_cli
from backhaul.sdk.testing.pytest_plugin import peer_missing

HERE = Path(__file__).parent
# the job functions live in a plain module, importable by name here and in worker processes
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
import jobfuncs  # noqa: E402

pytestmark = pytest.mark.redis
BACKHAUL = str(Path(sys.executable).parent / "backhaul")


def greetings(name: str | None = None) -> int:
    db.session.commit()  # end our transaction: on SQLite a reader keeps its snapshot
    query = sa.select(sa.func.count(Greeting.id))
    if name is not None:
        query = query.where(Greeting.name == name)
    return db.session.scalar(query)


def intent(intent_id: int) -> JobIntent:
    db.session.commit()  # a fresh transaction sees what workers committed meanwhile
    return db.session.get(JobIntent, intent_id)


def queued(app) -> int:
    return app.extensions["backhaul.jobs"].queue("default").count


@pytest.fixture
def japp(make_app, redis_url):
    """An app using the shared test Redis (its own queue names), inside an app context."""
    app = make_app(plugins=["example"], redis_url=redis_url)
    with app.app_context():
        yield app


def worker_process(app) -> subprocess.Popen:
    """A real ``backhaul worker --burst`` process on the app's database and queues."""
    env = app_environ(app, PYTHONPATH=str(HERE))
    return subprocess.Popen([BACKHAUL, "worker", "--burst"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


# ----------------------------------------------------------------------------- (a) web -> worker
def test_job_enqueued_by_a_web_request_runs_on_a_worker(make_app, redis_url, temp_plugin,
                                                        rq_burst, staff_user, login,
                                                        csrf_token):
    def register_blueprints(app):
        bp = Blueprint("jobweb", __name__, url_prefix="/jobweb")

        @bp.post("/greet/<name>")
        @permission_required("jobweb.greeting.send")
        def greet(name):
            enqueue(jobfuncs.greet, name)
            db.session.commit()
            return {"queued": name}, 202

        return [bp]

    web = temp_plugin("jobweb", register_blueprints=register_blueprints,
                      permissions=lambda: [Permission("jobweb.greeting.send", "send")])
    app = make_app(plugins=["example"], extra_plugins=[web], redis_url=redis_url)
    with app.app_context():
        client = app.test_client()
        login(client, staff_user(permissions=["jobweb.greeting.send"]))
        response = client.post("/jobweb/greet/Ada", headers={"X-CSRFToken": csrf_token(client)})
        assert response.status_code == 202, response.get_data(as_text=True)
        job = db.session.scalar(sa.select(JobIntent).where(JobIntent.func == "jobfuncs:greet"))
        assert job.status == "enqueued" and queued(app) == 1
        assert greetings("Ada") == 0  # not run inside the request
        rq_burst(app)
        assert intent(job.id).status == "done" and intent(job.id).attempts == 1
        assert greetings("Ada") == 1


# ----------------------------------------------------------------------------- (b) Redis down


@contextmanager
def private_redis(port: int):
    """A throw-away redis-server of our own (never the shared one), stopped on exit."""
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("private redis-server did not start")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def test_job_enqueued_while_redis_is_down_runs_once_it_is_back(make_app, rq_burst):
    if shutil.which("redis-server") is None:
        peer_missing("redis-server (to start a private one)")
    port = free_port()
    app = make_app(plugins=["example"], redis_url=f"redis://127.0.0.1:{port}/0")
    with app.app_context():
        with private_redis(port):
            assert app.extensions["backhaul.jobs"].redis.ping()
        # Redis is stopped now: the request's transaction still commits, the intent waits
        job = enqueue(jobfuncs.greet, "Grace")
        db.session.commit()
        assert intent(job.id).status == "pending"
        scheduler.tick(app)  # the sweeper tries; Redis still down
        assert intent(job.id).status == "pending"
        with private_redis(port):
            scheduler.tick(app)  # (this also enqueues the enabled plugins' periodic jobs)
            assert intent(job.id).status == "enqueued"
            rq_burst(app)
            assert intent(job.id).status == "done"
            assert sweep() == 0
        assert greetings("Grace") == 1


# ----------------------------------------------------------------------------- (c) duplicates
def test_the_same_intent_pushed_twice_runs_once(japp, rq_burst):
    job = enqueue(jobfuncs.greet, "Twice")
    db.session.commit()
    assert japp.extensions["backhaul.jobs"].push(job.id)  # a second delivery of the intent
    assert queued(japp) == 2
    rq_burst(japp)
    assert queued(japp) == 0
    assert greetings("Twice") == 1 and intent(job.id).attempts == 1


def test_run_intent_twice_runs_once(japp):
    job = enqueue(jobfuncs.greet, "Again", delay=timedelta(hours=1))
    db.session.commit()
    assert run_intent(job.id) == "done"
    assert run_intent(job.id) == "skipped"
    assert greetings("Again") == 1


def test_concurrent_deliveries_in_two_threads_run_once(japp):
    job_id = enqueue(jobfuncs.slow_greet, "Racing", 0.3, delay=timedelta(hours=1)).id
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def deliver():
        with japp.app_context():
            barrier.wait()
            outcomes.append(run_intent(job_id))
            db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["done", "skipped"]
    assert greetings("Racing") == 1


def test_concurrent_deliveries_in_two_worker_processes_run_once(japp):
    job_id = enqueue(jobfuncs.slow_greet, "Processes", 0.5).id
    db.session.commit()
    japp.extensions["backhaul.jobs"].push(job_id)
    assert queued(japp) == 2
    db.session.remove()
    workers = [worker_process(japp) for _ in range(2)]
    try:
        for proc in workers:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    assert queued(japp) == 0
    assert greetings("Processes") == 1 and intent(job_id).status == "done"


# ----------------------------------------------------------------------------- (d) retries
def test_retries_back_off_then_fail_then_retry_from_the_cli(make_app, redis_url, rq_burst,
                                                            tmp_path):
    app = make_app(plugins=["example"], redis_url=redis_url, job_backoff_seconds=1)
    flag = tmp_path / "failing"
    flag.write_text("still failing")
    with app.app_context():
        job = enqueue(jobfuncs.flaky, str(flag), "Patience", max_attempts=3)
        db.session.commit()
        gaps = []
        for attempt in (1, 2, 3):
            rq_burst(app)
            row = intent(job.id)
            assert row.attempts == attempt and "is still there" in row.last_error
            if attempt < 3:
                assert row.status == "pending"
                gaps.append((row.next_attempt_at - row.finished_at).total_seconds())
                assert sweep() == 0, "not due before its backoff"
                time.sleep(max((row.next_attempt_at - utcnow()).total_seconds(), 0) + 0.05)
                assert sweep() == 1 and intent(job.id).status == "enqueued"
        assert intent(job.id).status == "failed"
        assert [round(g) for g in gaps] == [1, 2]  # exponential: base, then twice the base
        assert greetings("Patience") == 0

        listed = run_cli(app, "jobs", "failed", "--json")
        rows = json.loads(listed.output)
        assert [(r["id"], r["func"], r["attempts"]) for r in rows] == [
            (job.id, "jobfuncs:flaky", 3)]
        assert "is still there" in rows[0]["error"]

        flag.unlink()  # the cause is fixed: retry every failed job
        result = run_cli(app, "jobs", "retry", "--all")
        assert "1 job(s) queued again" in result.output
        assert intent(job.id).status == "enqueued", "retry --all dispatches at once"
        rq_burst(app)
        assert intent(job.id).status == "done" and greetings("Patience") == 1
        assert "no failed jobs" in run_cli(app, "jobs", "failed").output


def test_retry_by_id_and_usage_errors(japp, rq_burst):
    first = enqueue(jobfuncs.explode, max_attempts=1)
    second = enqueue(jobfuncs.explode, max_attempts=1)
    db.session.commit()
    rq_burst(japp)
    assert {intent(first.id).status, intent(second.id).status} == {"failed"}
    result = run_cli(japp, "jobs", "retry", str(second.id))
    assert "1 job(s) queued again" in result.output
    assert intent(first.id).status == "failed" and intent(second.id).status == "enqueued"
    assert run_cli(japp, "jobs", "retry").exit_code == 2
    assert run_cli(japp, "jobs", "retry", "--all", str(first.id)).exit_code == 2


# ----------------------------------------------------------------------------- (e) dead worker
def test_a_worker_killed_mid_job_is_recovered_after_the_timeout(make_app, redis_url, rq_burst,
                                                                tmp_path):
    app = make_app(plugins=["example"], redis_url=redis_url, job_stale_grace_seconds=0)
    marker = tmp_path / "started"
    with app.app_context():
        job_id = enqueue(jobfuncs.block_once, str(marker), "Phoenix",
                         timeout=timedelta(seconds=2)).id
        db.session.commit()
        proc = worker_process(app)
        try:
            deadline = time.monotonic() + 30
            while not marker.exists():
                assert proc.poll() is None and time.monotonic() < deadline, "never started"
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)  # the worker dies mid-job
            proc.wait(10)
        row = intent(job_id)
        assert row.status == "running" and row.attempts == 1
        assert sweep() == 0, "not presumed lost before its timeout"
        time.sleep(max((row.started_at + timedelta(seconds=2) - utcnow()).total_seconds(), 0)
                   + 0.1)
        assert sweep() == 1
        assert intent(job_id).status == "enqueued"
        rq_burst(app)
        row = intent(job_id)
        assert row.status == "done" and row.attempts == 2
        assert greetings("Phoenix") == 1


def test_a_job_that_keeps_killing_workers_ends_failed(japp):
    job = enqueue(jobfuncs.greet, "Poison", max_attempts=1, timeout=timedelta(seconds=1),
                  delay=timedelta(hours=1))
    db.session.commit()
    # what a worker that dies after claiming leaves behind: running, its last attempt
    db.session.execute(sa.update(JobIntent).where(JobIntent.id == job.id).values(
        status="running", attempts=1, started_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert sweep() == 0
    row = intent(job.id)
    assert row.status == "failed" and "worker lost" in row.last_error


def test_a_late_finisher_does_not_double_the_effect(japp):
    """The sweeper hands a stale attempt on; when the old attempt finishes after all, its
    writes are discarded (the compare-and-set on attempts fails)."""
    job = enqueue(jobfuncs.greet, "Late", delay=timedelta(hours=1))
    db.session.commit()
    started = threading.Event()
    original = jobfuncs.greet

    def slow(name):
        started.set()
        # meanwhile the sweeper decided this attempt was lost and a new one claimed it
        with japp.app_context():
            db.session.execute(sa.update(JobIntent).where(JobIntent.id == job.id)
                               .values(attempts=JobIntent.attempts + 1))
            db.session.commit()
            db.session.remove()
        original(name)

    jobfuncs.greet = slow
    try:
        assert run_intent(job.id) == "lost"
    finally:
        jobfuncs.greet = original
    assert started.is_set() and greetings("Late") == 0


# ----------------------------------------------------------------------------- (f) schedulers
def test_two_schedulers_racing_enqueue_each_periodic_slot_once(make_app, redis_url, rq_burst,
                                                               temp_plugin):
    names = [f"race.job{i}" for i in range(5)]
    racing = temp_plugin("race", periodic_jobs=lambda: [
        PeriodicJob(name, jobfuncs.periodic_greet, every=timedelta(hours=1)) for name in names])
    app = make_app(plugins=[], extra_plugins=[racing], redis_url=redis_url)
    barrier, errors = threading.Barrier(2), []

    def run_scheduler():
        barrier.wait()
        try:
            scheduler.tick(app)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run_scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    with app.app_context():
        def race_keys():
            db.session.commit()
            return sorted(db.session.scalars(sa.select(JobIntent.key).where(
                JobIntent.key.like("periodic:race.%"))))

        assert [k.split(":")[1] for k in race_keys()] == names
        scheduler.tick(app)  # a later tick in the same slot adds nothing
        assert len(race_keys()) == len(names)
        rq_burst(app)
        assert greetings("periodic") == len(names)
