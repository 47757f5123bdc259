"""The GraphQL explorer in headless Chromium, and the Content-Security-Policy on real pages:
the explorer runs a query as the signed-in user and browses the schema; the dashboard, the
explorer and accounts pages load without a single CSP violation or script error."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.browser

PERMISSIONS = ["core.graphql.explore", "core.plugins.view", "core.jobs.view",
               "accounts.account.view", "accounts.status.manage"]

#: Reports every violation to the console, where the test collects it with Chromium's own
#: "Refused to ... because it violates the following Content Security Policy directive".
WATCH_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " +
                (e.blockedURI || "inline") + " in " + e.sourceFile + ":" + e.lineNumber);
});
"""


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture
def server(make_app, make_live_server, staff_user):
    """The live app (every installed plugin: their menus are on the pages too) and a user's
    e-mail and password, read before the test's own session lets go of the database (an
    open transaction of the test must not hold SQLite's write lock while the browser signs
    in)."""
    from backhaul.core.db import db

    app = make_app()
    with app.app_context():
        user = staff_user(PERMISSIONS, name="Eve Explorer", email="eve@isp.example")
        login = SimpleNamespace(email=user.email, test_password=user.test_password)
        db.session.close()
        yield make_live_server(app), login


@pytest.fixture
def watched(page):
    """The page, and the CSP violations and script errors it reports."""
    problems: list[str] = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("console", lambda msg: problems.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return page, problems


def sign_in(page, server, user):
    page.goto(server.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def test_explorer_runs_a_query_and_no_page_breaks_the_policy(server, watched):
    live, user = server
    page, problems = watched
    sign_in(page, live, user)
    assert problems == [], "dashboard"

    page.goto(live.url("/graphql"))
    expect(page.get_by_role("heading", name="GraphQL explorer", level=1)).to_be_visible()
    types = page.locator("#gx-type-list")
    expect(types.get_by_role("link", name="Query", exact=True)).to_be_visible()  # introspected

    # a query, run with Ctrl+Enter from the editor: the result shows the signed-in user
    editor = page.get_by_label("Query")
    editor.fill("{ viewer { email } }")
    editor.press("Control+Enter")
    output = page.locator("#gx-output")
    expect(output).to_contain_text(f'"email": "{user.email}"')
    expect(page.locator("#gx-status")).to_contain_text("HTTP 200")

    # Tab indents inside the editor instead of leaving it
    editor.fill("{")
    editor.press("End")
    editor.press("Tab")
    assert editor.input_value() == "{  "
    expect(editor).to_be_focused()

    # invalid variables are refused in the page, with the reason
    editor.fill("query($n: Int) { viewer { email } }")
    page.get_by_label("Variables (JSON)").fill("{n: 1}")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#gx-variables-error")).to_contain_text("Variables are not valid JSON")
    page.get_by_label("Variables (JSON)").fill('{"n": 1}')
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#gx-variables-error")).to_be_hidden()

    # a GraphQL error is shown, highlighted
    editor.fill("{ viewer { noSuchField } }")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#gx-output .gx-errors")).to_contain_text("noSuchField")
    expect(page.locator("#gx-status")).to_contain_text("HTTP 400 · ")

    # the schema docs: filter, open a field's type, follow a type link
    page.get_by_label("Filter types and fields").fill("viewer")
    types.get_by_role("link", name="Query.viewer").click()
    doc = page.locator("#gx-type-doc")
    expect(doc.locator("#gx-member-viewer")).to_contain_text("viewer: Viewer!")
    doc.locator("#gx-member-viewer").get_by_role("link", name="Viewer").click()
    expect(doc.get_by_role("heading", level=3)).to_contain_text("Viewer")
    expect(doc).to_contain_text("permissions")
    assert problems == [], "explorer"

    # accounts pages: their stylesheet and the run-time status colours work under the policy
    page.goto(live.url("/accounts/statuses"))
    expect(page.get_by_role("heading", name="Account statuses", level=1)).to_be_visible()
    active = page.locator(".acct-status", has_text="Active").first
    expect(active).to_have_css("color", "rgb(22, 163, 74)")  # #16a34a, from data-colour
    expect(page.locator(".acct-grid")).to_have_css("display", "grid")  # accounts.css loaded
    page.goto(live.url("/accounts/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert problems == [], "accounts"

    # the watcher is not blind: an inline script injected now is blocked and reported
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.ran = true"; document.body.append(s); }""")
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.ran === undefined")
    assert any("script-src" in p for p in problems), problems


def test_schema_reference_page(server, watched):
    """The reference lists the schema's types with their descriptions, under the policy."""
    page, problems = watched
    live, user = server
    sign_in(page, live, user)
    page.goto(live.url("/graphql/reference"))
    expect(page.get_by_role("heading", name="GraphQL schema reference")).to_be_visible()
    account = page.locator("#type-Account")
    expect(account).to_contain_text("A customer: a tenant, a business or a building owner.")
    expect(account).to_contain_text("billingInvoices")
    expect(page.get_by_role("link", name="GraphQL reference")).to_be_visible()  # the menu
    assert problems == [], "reference"
