"""Job functions for the job tests. Importable by name in worker subprocesses too (the tests
put this folder on their ``PYTHONPATH``). Each effect is a row in the example plugin's table,
deliberately NOT idempotent here, so that a job running twice would show."""
from __future__ import annotations

import os
import time
from pathlib import Path

from backhaul.core.db import db
from backhaul.plugins.example.models import Greeting


def greet(name: str) -> None:
    db.session.add(Greeting(name=name, message=f"job greets {name}"))


def slow_greet(name: str, seconds: float) -> None:
    time.sleep(seconds)
    greet(name)


def explode(message: str = "boom") -> None:
    raise RuntimeError(message)


def flaky(flag: str, name: str) -> None:
    """Fails while the file ``flag`` exists."""
    if Path(flag).exists():
        raise RuntimeError(f"flag {flag} is still there")
    greet(name)


def block_once(marker: str, name: str) -> None:
    """The first run marks ``marker`` and hangs (to be killed); a later run does the work."""
    if not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        time.sleep(60)
    greet(name)


def periodic_greet() -> None:
    greet("periodic")
