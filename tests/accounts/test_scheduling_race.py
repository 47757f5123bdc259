"""Exactly once across processes: two runners racing, and a runner killed mid-action."""
import multiprocessing
import os
import signal
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from accounts_race_helpers import run_executor, slow_plugin

from backhaul.core.accounts.moves import onboard_tenant, schedule_move_out
from backhaul.core.accounts.scheduling import run_due_events, schedule_event
from backhaul.core.db import db, utcnow
from backhaul.sdk.accounts import AddressOccupancy, ScheduledEvent, StatusChange, create_account

SPAWN = multiprocessing.get_context("spawn")


def _child_config(backhaul_base_config) -> dict:
    return {**backhaul_base_config, "PLUGINS": [], "EXTRA_PLUGINS": []}


def _make_due():
    db.session.execute(sa.update(ScheduledEvent).values(next_attempt_at=utcnow()
                                                         - timedelta(seconds=1)))
    db.session.commit()


@pytest.mark.slow
def test_two_scheduler_processes_run_a_move_out_exactly_once(app, building,
                                                             backhaul_base_config):
    unit = building.addresses[0]
    tenant = onboard_tenant({"address_id": unit.id, "name": "Jane Doe",
                             "email": "jane@example.com"})
    db.session.commit()
    move_out = schedule_move_out(tenant, {"on": (utcnow() + timedelta(days=1)).date()})
    others = []  # more due events, so that the two runners really contend
    for i in range(20):
        account = create_account(name=f"Other {i}")
        others.append(account)
        db.session.flush()
        schedule_event(account, "change_status", utcnow(), {"status": "suspended"})
    db.session.commit()
    _make_due()  # the move-out date has come
    move_out_id, tenant_id, other_ids = move_out.id, tenant.id, [a.id for a in others]
    db.session.remove()

    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    config = _child_config(backhaul_base_config)
    procs = [SPAWN.Process(target=run_executor, args=(config, barrier, results))
             for _ in range(2)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert len({pid for pid, _ in outcomes}) == 2
    assert sum(counts.get("done", 0) for _, counts in outcomes) == 21

    events = db.session.scalars(sa.select(ScheduledEvent)).all()
    assert {(e.status, e.attempts) for e in events} == {("done", 1)}
    move_out = db.session.get(ScheduledEvent, move_out_id)
    assert move_out.result["status"] == "moved_out"
    changes = db.session.scalars(sa.select(StatusChange).where(
        StatusChange.account_id == tenant_id, StatusChange.reason == "move_out")).all()
    assert len(changes) == 1
    occupancy = db.session.scalar(sa.select(AddressOccupancy).where(
        AddressOccupancy.account_id == tenant_id))
    assert occupancy.ended_at is not None and occupancy.ended_reason == "move_out"
    for account_id in other_ids:
        assert db.session.scalar(sa.select(sa.func.count(StatusChange.id)).where(
            StatusChange.account_id == account_id)) == 2  # created + suspended, once


@pytest.mark.slow
def test_runner_killed_mid_action_leaves_no_effect_and_is_taken_over(
        make_app, backhaul_base_config, tmp_path):
    app = make_app(plugins=[], extra_plugins=[slow_plugin()],
                   PLUGIN_SETTINGS={"accounts": {"event_lease_seconds": 3}})
    with app.app_context():
        account = create_account(name="Jane")
        event = schedule_event(account, "slow_status", utcnow(), {"status": "inactive"})
        db.session.commit()
        event_id, account_id = event.id, account.id
        db.session.remove()

        marker = tmp_path / "hanging"
        os.environ["BH_TEST_HANG_MARKER"] = str(marker)
        try:
            config = {**_child_config(backhaul_base_config),
                      "PLUGIN_SETTINGS": {"accounts": {"event_lease_seconds": 3}}}
            results = SPAWN.Queue()
            proc = SPAWN.Process(target=run_executor, args=(config, None, results, True))
            proc.start()
            deadline = time.monotonic() + 60
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert marker.exists(), "the runner never reached the action"
        finally:
            os.environ.pop("BH_TEST_HANG_MARKER", None)
        os.kill(proc.pid, signal.SIGKILL)  # dies inside the action's transaction
        proc.join(timeout=10)

        event = db.session.get(ScheduledEvent, event_id)
        assert (event.status, event.attempts) == ("running", 1)
        assert db.session.scalar(sa.select(sa.func.count(StatusChange.id)).where(
            StatusChange.account_id == account_id)) == 1  # only "created": no effect
        assert run_due_events() == {}  # the dead runner's lease still holds
        db.session.remove()
        time.sleep(3.2)
        assert run_due_events() == {"done": 1}
        event = db.session.get(ScheduledEvent, event_id)
        assert (event.status, event.attempts) == ("done", 2)
        statuses = db.session.scalars(sa.select(StatusChange.new_status).where(
            StatusChange.account_id == account_id).order_by(StatusChange.id)).all()
        assert statuses == ["active", "inactive"]
