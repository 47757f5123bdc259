"""Backhaul's test kit for plugin authors (registered as a pytest plugin: ``-p backhaul``).

Fixtures: ``make_app`` (an app with chosen plugins on SQLite or PostgreSQL, migrated),
``backhaul_app``, ``backhaul_db_session``, ``backhaul_client``, ``backhaul_cli`` (prefixed,
so your own ``app``/``client`` fixtures never collide with the kit's), ``hook_recorder``
(every hook call of the test's apps, start-up included), ``temp_plugin``, ``redis_url``,
``rq_burst``, and the sign-in helpers of :mod:`.auth`. Functions: :func:`make_plugin`, :func:`run_cli` (the
command line against any app), :func:`app_environ` (the environment for a real ``backhaul``
subprocess), :func:`free_port` (a loopback port for a test peer). Contract tests for each
extension point live in :mod:`backhaul.sdk.testing.contracts`; the import rule in
:mod:`backhaul.sdk.testing.boundaries`; a check of a plugin's migrations against its models
in :mod:`backhaul.sdk.testing.migrations`.

Environment:

* ``BACKHAUL_TEST_DATABASE_URL`` — an admin URL of a PostgreSQL server; each test session
  creates (and drops) its own throw-away database there. Unset: SQLite in a temp folder.
* ``BACKHAUL_TEST_REDIS_URL`` — a Redis server for job tests. Unset: those tests skip, unless
  ``BACKHAUL_TEST_REQUIRE_PEERS=1``, which turns a missing peer into a failure (CI).
"""
from .plugin_factory import make_plugin


def run_cli(app, *args: str, input: str | None = None):
    """Run the ``backhaul`` command line against ``app``; returns click's ``Result``."""
    from .pytest_plugin import run_cli as _run

    return _run(app, *args, input=input)


def app_environ(app, **extra: str) -> dict[str, str]:
    """The environment for a ``backhaul`` subprocess (a real worker, scheduler or server)
    that uses the same database, Redis, queues and plugins as ``app``."""
    import os

    config = app.config
    plugins = config["PLUGINS"]
    env = {**os.environ,
           "BACKHAUL_DATABASE_URL": config["DATABASE_URL"],
           "BACKHAUL_INSTANCE_PATH": config["INSTANCE_PATH"],
           "BACKHAUL_SECRET_KEY": config["SECRET_KEY"],
           "BACKHAUL_QUEUE_PREFIX": config["QUEUE_PREFIX"],
           "BACKHAUL_PLUGINS": plugins if isinstance(plugins, str) else ",".join(plugins),
           "BACKHAUL_JOB_BACKOFF_SECONDS": str(config["JOB_BACKOFF_SECONDS"]),
           "BACKHAUL_JOB_STALE_GRACE_SECONDS": str(config["JOB_STALE_GRACE_SECONDS"])}
    if config.get("REDIS_URL"):
        env["BACKHAUL_REDIS_URL"] = config["REDIS_URL"]
    if config.get("SECRETS_KEYS"):
        env["BACKHAUL_SECRETS_KEYS"] = ",".join(config["SECRETS_KEYS"])
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a test peer)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


__all__ = ["app_environ", "free_port", "make_plugin", "run_cli"]
