"""The Content-Security-Policy: sent with every HTML page, and every template keeps to it (no
inline script, event handler or style attribute, which the policy would block)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from backhaul.core.ui import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(p for folder in ("core", "plugins") for p in (ROOT / folder).glob(
    "**/templates/**/*.html"))
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b((?:[^>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{)*)>",
                 re.S)


def inline_code(html: str) -> list[str]:
    """What the policy would block in ``html``: inline ``<script>`` and ``<style>`` blocks,
    ``on...=`` handlers, ``style=`` attributes and ``javascript:`` URLs."""
    found = []
    html = re.sub(r"\{#.*?#\}", "", html, flags=re.S)  # Jinja comments
    for match in TAG.finditer(html):
        name, attrs = match.group(1).lower(), match.group(2)
        if name == "script" and not re.search(r"\ssrc\s*=", attrs):
            found.append("inline <script>")
        if name == "style":
            found.append("<style> block")
        for attr in re.findall(r"\s(on[a-z]+|style)\s*=", attrs, re.I):
            found.append(f"{attr}= attribute on <{name}>")
        if re.search(r"""=\s*["']?\s*javascript:""", attrs, re.I):
            found.append(f"javascript: URL on <{name}>")
    return found


def test_the_checker_finds_what_the_policy_blocks():
    assert inline_code('<script src="/static/a.js" defer></script><p class="x">') == []
    assert inline_code("<script>alert(1)</script>") == ["inline <script>"]
    assert inline_code("<style>p{}</style>") == ["<style> block"]
    assert inline_code('<button type="button" onclick="go()">') == ["onclick= attribute on <button>"]
    assert inline_code('<span class="{{ c }}" style="--x: {{ v }}">') == [
        "style= attribute on <span>"]
    assert inline_code('<a href="javascript:void(0)">') == ["javascript: URL on <a>"]
    assert inline_code('<p data-colour="{{ s.colour }}">{% if a > b %}x{% endif %}</p>') == []
    assert inline_code("{# an example: <script>x()</script> #}") == []


def test_templates_found():
    names = {p.relative_to(ROOT).as_posix() for p in TEMPLATES}
    assert "core/ui/templates/base.html" in names
    assert "core/graphql/templates/graphql/explorer.html" in names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_template_has_no_inline_script_or_style(path):
    problems = inline_code(path.read_text(encoding="utf-8"))
    assert not problems, (
        f"{path.relative_to(ROOT)}: {problems}. The Content-Security-Policy blocks these: move "
        "scripts and styles into static files (a run-time colour: data-colour, see backhaul.js)")


def test_policy_on_html_pages_not_on_json(client, staff_user, login):
    sign_in_page = client.get("/login")
    assert sign_in_page.mimetype == "text/html"
    assert sign_in_page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                 "img-src 'self' data:", "connect-src 'self'", "frame-ancestors 'none'",
                 "form-action 'self'", "base-uri 'self'", "object-src 'none'"):
        assert part in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    login(client, staff_user(["core.plugins.view"]))
    for path in ("/", "/plugins", "/no-such-page"):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
    health = client.get("/health")
    assert health.mimetype == "application/json"
    assert "Content-Security-Policy" not in health.headers
