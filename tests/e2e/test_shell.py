"""The staff UI in headless Chromium: sign in, use the menu, the plugins page and the search
box, sign out; then prove the session is dead on the server, not just forgotten by the
browser."""
from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from backhaul.sdk import SearchResult

pytestmark = pytest.mark.browser


@pytest.fixture
def shell(make_app, make_live_server, temp_plugin, staff_user):
    finder = temp_plugin("finder", search=lambda query: [
        SearchResult(f"Account {query.title()}", "/plugins", "account", "A000042",
                     score=0.9)])
    app = make_app(extra_plugins=[finder])
    with app.app_context():
        user = staff_user(["core.plugins.view", "core.jobs.view"], name="Grace Hopper",
                          email="grace@isp.example")
        yield make_live_server(app), user


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(page, server, user):
    page.goto(server.url("/"))
    expect(page).to_have_url(server.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(server.url("/"))


def replay(server, path: str, cookie_name: str, cookie_value: str) -> tuple[int, str]:
    """GET ``path`` with only the given cookie, outside the browser; no redirects followed."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": f"{cookie_name}={cookie_value}"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def test_sign_in_menu_plugins_search_sign_out(shell, page, request):
    server, user = shell
    sign_in(page, server, user)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text("Grace Hopper")

    shots = Path(request.config.rootpath) / "test-artifacts"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    # the menu: a permitted item, highlighted once open
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Plugins").click()
    expect(page).to_have_url(server.url("/plugins"))
    expect(page.get_by_role("heading", name="Plugins", level=1)).to_be_visible()
    expect(nav.get_by_role("link", name="Plugins")).to_have_attribute("aria-current", "page")
    for name in ("core", "auth", "audit", "accounts", "finder"):
        expect(page.locator(f"tr#plugin-{name}")).to_contain_text("enabled")

    # the search box: "/" focuses it from anywhere on the page
    page.locator("body").click(position={"x": 600, "y": 400})
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search")
    expect(box).to_be_focused()
    page.keyboard.type("ann")
    page.keyboard.press("Enter")
    expect(page).to_have_url(server.url("/search?q=ann"))
    expect(page.get_by_role("link", name="Account Ann")).to_be_visible()

    # the session works from outside the browser too, until signing out
    cookie_name = server.app.config["SESSION_COOKIE_NAME"]
    (cookie,) = [c for c in page.context.cookies() if c["name"] == cookie_name]
    assert replay(server, "/plugins", cookie_name, cookie["value"])[0] == 200

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.url("/login"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    page.goto(server.url("/plugins"))
    expect(page).to_have_url(server.url("/login?next=/plugins"))

    # the old cookie, replayed, is refused: the session was revoked on the server
    status, location = replay(server, "/plugins", cookie_name, cookie["value"])
    assert status == 302 and urlsplit(location).path == "/login"


def test_keyboard_and_narrow_screen(shell, page):
    server, user = shell
    sign_in(page, server, user)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    page.set_viewport_size({"width": 400, "height": 760})
    sidebar = page.locator("#sidebar")
    menu = page.get_by_role("button", name="Menu")
    expect(sidebar).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(sidebar).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sidebar.get_by_role("link").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(menu).to_be_focused()
