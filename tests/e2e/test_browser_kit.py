"""The browser test kit itself: live server, Chromium page, screenshot of a failing test."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from flask import Flask

pytestmark = pytest.mark.browser


def test_page_drives_a_live_server(make_live_server, page):
    app = Flask("kit")

    @app.get("/")
    def home():
        return "<title>Kit</title><button onclick=\"this.textContent='clicked'\">Go</button>"

    server = make_live_server(app)
    assert server.base_url.startswith("http://127.0.0.1:")
    page.goto(server.url("/"))
    assert page.title() == "Kit"
    page.get_by_role("button", name="Go").click()
    assert page.get_by_role("button").text_content() == "clicked"


def test_every_test_gets_a_fresh_profile(make_live_server, page):
    app = Flask("kit")

    @app.get("/")
    def home():
        return "<script>document.write(document.cookie || 'no cookies')</script>"

    server = make_live_server(app)
    page.goto(server.url("/"))
    assert "no cookies" in page.content()


def test_a_failing_browser_test_leaves_a_screenshot(tmp_path, chromium_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent("""
        def test_fails(page):
            page.set_content("<h1 style='color:red'>boom</h1>")
            assert page.title() == "something else"

        def test_passes(page):
            page.set_content("<h1>fine</h1>")
    """))
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "BACKHAUL_TEST_ARTIFACTS": str(artifacts),
           "BACKHAUL_TEST_CHROMIUM": chromium_path}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(tmp_path / "test_inner.py")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    shots = sorted(p.name for p in artifacts.iterdir())
    assert shots == ["test_inner.test_fails.png"]
    assert (artifacts / shots[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "browser screenshot" in run.stdout
