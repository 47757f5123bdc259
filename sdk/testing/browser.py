"""Browser tests against a real server and headless Chromium (Playwright's sync API).

Fixtures (loaded with the ``backhaul`` pytest plugin):

* ``backhaul_live_server`` — ``backhaul_app`` served over HTTP on a free 127.0.0.1 port by
  werkzeug in a background thread; ``.url("/plugins")`` builds addresses.
  ``make_live_server(app)`` serves an app of your own (``make_app(plugins=[...])``).
* ``chromium_path`` — the browser to drive: ``$BACKHAUL_TEST_CHROMIUM``, else ``chromium``
  on the ``PATH``. Missing: the test is skipped, or fails with
  ``BACKHAUL_TEST_REQUIRE_PEERS=1`` (CI).
* ``sign_in(page, live, user)`` — the sign-in form, filled and sent.
* ``page`` — a Playwright ``Page`` in a freshly launched headless Chromium with a new,
  empty profile (user-data dir) per test, so no cookie or cache leaks between tests.

Every browser test that fails leaves a full-page screenshot in ``test-artifacts/<test>.png``
(``$BACKHAUL_TEST_ARTIFACTS`` to put them elsewhere); the path is added to the report.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM_ENV = "BACKHAUL_TEST_CHROMIUM"
ARTIFACTS_ENV = "BACKHAUL_TEST_ARTIFACTS"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 10_000


@dataclass
class LiveServer:
    """A running app: ``.app``, ``.host``, ``.port``, ``.base_url``, ``.url(path)``."""

    app: object
    host: str
    port: int
    _server: object
    _thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def sign_in(page, live: LiveServer, user) -> None:
    """Sign ``user`` (from ``staff_user``: it carries ``test_password``) in through the real
    sign-in form of ``live`` and wait until the browser has left it."""
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def serve(app, host: str = "127.0.0.1") -> LiveServer:
    """Serve ``app`` in a daemon thread on a free port (the OS picks it: port 0)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):  # errors are still logged
            pass

    server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    return LiveServer(app, host, server.server_port, server, thread)


@pytest.fixture
def make_live_server() -> Iterator:
    servers: list[LiveServer] = []

    def start(app) -> LiveServer:
        server = serve(app)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def backhaul_live_server(backhaul_app, make_live_server) -> LiveServer:
    """:func:`backhaul_app` served on a loopback port (``make_live_server(app)`` for another)."""
    return make_live_server(backhaul_app)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    from .pytest_plugin import peer_missing

    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or ""
    if not path or not os.access(path, os.X_OK):
        peer_missing(f"Chromium ({CHROMIUM_ENV} or `chromium` on the PATH)")
    return path


@pytest.fixture(scope="session")
def playwright_driver(chromium_path) -> Iterator:
    from .pytest_plugin import peer_missing

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        peer_missing("Playwright for Python (pip install playwright)")
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture
def browser_context(playwright_driver, chromium_path, tmp_path) -> Iterator:
    """A headless Chromium with its own fresh profile; closed after the test."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=chromium_path, headless=True,
        args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context):
    """A Playwright page in a fresh browser (see :func:`browser_context`)."""
    return browser_context.pages[0] if browser_context.pages else browser_context.new_page()


def artifacts_dir(config) -> Path:
    return Path(os.environ.get(ARTIFACTS_ENV) or Path(config.rootpath) / "test-artifacts")


def screenshot_name(nodeid: str) -> str:
    """``tests/e2e/test_shell.py::test_x[a]`` -> ``test_shell.test_x-a_.png``."""
    path, _, name = nodeid.partition("::")
    stem = Path(path).stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}.{name}").strip("_")[:150] + ".png"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of the page of every browser test that fails (setup or call)."""
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    page_obj = getattr(item, "funcargs", {}).get("page")
    if page_obj is None:
        return
    target = artifacts_dir(item.config) / screenshot_name(item.nodeid)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        page_obj.screenshot(path=str(target), full_page=True)
    except Exception as exc:  # a dead browser must not hide the real failure
        report.sections.append(("browser screenshot", f"could not be taken: {exc}"))
        return
    report.sections.append(("browser screenshot", str(target)))
    report.user_properties.append(("screenshot", str(target)))
