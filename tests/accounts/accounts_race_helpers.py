"""Process entry points for the scheduler race tests (importable by spawned children)."""
from __future__ import annotations

import os
import time

from backhaul.sdk import ScheduledActionType
from backhaul.sdk.testing.plugin_factory import make_plugin


def _execute_slowly(event, params):
    """Change the status, then hang on the first attempt (so the test can kill the runner)."""
    from backhaul.core.accounts.statuses import set_status

    set_status(event.account, params["status"], reason="scheduled")
    from backhaul.core.db import db

    db.session.flush()
    if event.attempts == 1:
        marker = os.environ.get("BH_TEST_HANG_MARKER")
        if marker:
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
        time.sleep(60)
    return {"status": params["status"]}


def slow_plugin():
    from backhaul.core.accounts.actions import ChangeStatusParams

    return make_plugin("slow_actions", scheduled_action_types=lambda: [
        ScheduledActionType("slow_status", "Slow status change", ChangeStatusParams,
                            _execute_slowly)])


def run_executor(config: dict, barrier, results, with_slow_plugin: bool = False) -> None:
    from backhaul.core.accounts.scheduling import run_due_events
    from backhaul.core.app import create_app

    if with_slow_plugin:
        config = {**config, "EXTRA_PLUGINS": [slow_plugin()]}
    app = create_app(config)
    with app.app_context():
        if barrier is not None:
            barrier.wait(timeout=30)
        results.put((os.getpid(), run_due_events()))
