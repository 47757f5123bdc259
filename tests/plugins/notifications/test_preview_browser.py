"""E-mail HTML previews in headless Chromium: styled by their own inline styles inside the
sandboxed frame, with no Content-Security-Policy violation logged by the page or the frame."""
from __future__ import annotations

from datetime import date

import pytest
from notif_helpers import save

from backhaul.plugins.notifications.api import notify
from backhaul.plugins.notifications.models import Message
from backhaul.sdk import Money, db

pytestmark = pytest.mark.browser

STYLED_HTML = ('<p id="styled" style="color: rgb(200, 0, 0); font-weight: 700">'
               "Invoice {{ invoice.number }} is due.</p>")
RED = "rgb(200, 0, 0)"


def _sign_in(page, live_server, user) -> list[str]:
    """Sign in through the form; returns the list that collects every console message."""
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(live_server.url("/login"))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return console


def _frame_colour(page) -> str:
    frame = page.frame_locator("iframe.html-preview")
    return frame.locator("#styled").evaluate("e => getComputedStyle(e).color")


def _csp_messages(console: list[str]) -> list[str]:
    return [m for m in console if "Content Security Policy" in m or "Content-Security" in m]


def test_message_preview_is_styled_without_csp_violations(app, live_server, page, staff_user,
                                                          smtp_server, email_channel,
                                                          household):
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.invoice_due", "email", subject="Invoice {{ invoice.number }}",
         body_text="Due {{ invoice.total }}", body_html=STYLED_HTML)
    [message_id] = notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "INV-77", "total": Money(100, "USD"), "due_date": date(2026, 1, 1)}})
    db.session.commit()
    assert 'style="color' in db.session.get(Message, message_id).body_html

    console = _sign_in(page, live_server, staff_user(["notifications.messages.view"]))
    page.goto(live_server.url(f"/notifications/messages/{message_id}"))
    iframe = page.locator("iframe.html-preview")
    assert iframe.get_attribute("sandbox") == ""  # no allowances: no script, opaque origin
    assert iframe.get_attribute("src") == f"/notifications/messages/{message_id}/preview.html"
    assert _frame_colour(page) == RED
    assert "INV-77" in page.frame_locator("iframe.html-preview").locator("#styled").text_content()
    page.wait_for_timeout(200)  # let late console messages arrive
    assert _csp_messages(console) == [], console


def test_template_editor_preview_is_styled_without_csp_violations(app, live_server, page,
                                                                  staff_user, household):
    account, _, _ = household
    user = staff_user(["notifications.templates.view", "notifications.templates.manage"])
    console = _sign_in(page, live_server, user)
    page.goto(live_server.url("/notifications/templates/testinvoices.invoice_due/email"))
    page.get_by_label("Subject").fill("Invoice {{ invoice.number }}")
    page.get_by_label("Text").fill("You owe {{ invoice.total }}.")
    page.get_by_label("HTML (optional)").fill(STYLED_HTML)
    page.get_by_label("Preview for account number").fill(account.number)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview")
    assert page.locator("iframe.html-preview").get_attribute("sandbox") == ""
    assert _frame_colour(page) == RED
    text = page.frame_locator("iframe.html-preview").locator("#styled").text_content()
    assert text == f"Invoice INV-{account.id:04d} is due."
    page.wait_for_timeout(200)
    assert _csp_messages(console) == [], console


def test_no_script_runs_even_when_the_preview_is_opened_on_its_own(app, live_server, page,
                                                                    staff_user, smtp_server,
                                                                    email_channel, household):
    """The policy's ``sandbox`` holds without the iframe's attribute (a staff member opening
    the frame's address in a tab): inline styles apply, scripts and handlers do not run."""
    account, _, _ = household
    email_channel(smtp_server.port)
    save("testinvoices.invoice_due", "email", subject="Invoice", body_text="Due",
         body_html=STYLED_HTML + '<script>document.title = "ran"</script>'
                                 '<img src="data:," onerror="document.title = \'ran\'">')
    [message_id] = notify("testinvoices.invoice_due", account.id, {"invoice": {
        "number": "INV-78", "total": Money(100, "USD"), "due_date": date(2026, 1, 1)}})
    db.session.commit()
    _sign_in(page, live_server, staff_user(["notifications.messages.view"]))
    page.goto(live_server.url(f"/notifications/messages/{message_id}/preview.html"))
    assert page.locator("#styled").evaluate("e => getComputedStyle(e).color") == RED
    page.wait_for_timeout(200)
    assert page.title() != "ran"
    assert page.evaluate("() => window.origin") == "null"  # an opaque origin: no cookies
