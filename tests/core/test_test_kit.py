"""The test kit as a plugin author meets it: their own ``app``/``client`` fixtures are theirs,
and the kit's fixtures are still there under their prefixed names.

Runs a separate pytest on a throw-away project (the kit loads through its ``pytest11`` entry
point, exactly as in an author's checkout).
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

CONFTEST = '''
import pytest

@pytest.fixture
def app():
    return "the author's app"

@pytest.fixture
def client(app):
    return f"a client of {app}"
'''

TESTS = '''
def test_the_authors_fixtures_win(app, client):
    assert app == "the author's app"
    assert client == "a client of the author's app"

def test_the_kits_fixtures_still_work(temp_plugin):
    assert temp_plugin("t").META.name == "t"
'''


def test_an_authors_app_and_client_fixtures_do_not_collide_with_the_kit(tmp_path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "test_author.py").write_text(textwrap.dedent(TESTS))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                             "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    listing = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-p",
                              "no:cacheprovider", str(tmp_path)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120).stdout
    for name in ("backhaul_app", "backhaul_client", "backhaul_db_session", "backhaul_cli",
                 "make_app"):
        assert f"\n{name}" in listing, name
