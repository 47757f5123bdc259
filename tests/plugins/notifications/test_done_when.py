"""The issue's "Done when": staff write the invoice sentence, preview it on a real account,
and the event delivers it by e-mail to that account's financial contact."""
from __future__ import annotations

import re
from datetime import date

from backhaul.plugins.notifications.api import notify
from backhaul.sdk import Money, db

SENTENCE = ("Your invoice {{ invoice.number }} of {{ invoice.total }} is due on "
            "{{ invoice.due_date }}")
URL = "/notifications/templates/testinvoices.invoice_due/email"


def test_staff_write_preview_and_the_event_delivers_it(app, smtp_server, email_channel,
                                                       household, staff_user, login,
                                                       csrf_token):
    account, tenant, landlord = household
    email_channel(smtp_server.port)
    client = app.test_client()
    login(client, staff_user(["notifications.templates.view",
                              "notifications.templates.manage"]))

    page = client.get(URL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for variable in ("invoice.number", "invoice.total", "invoice.due_date", "contact.name"):
        assert f"{{{{ {variable} }}}}" in text  # the catalogue is shown beside the editor

    form = {"csrf_token": csrf_token(client), "subject": "Invoice {{ invoice.number }}",
            "body_text": SENTENCE, "body_html": "", "enabled": "y"}
    preview = client.post(URL, data={**form, "action": "preview",
                                     "preview_account": account.number})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    expected = f"Your invoice INV-{account.id:04d} of 49.99 USD is due on 2026-12-15"
    assert expected in html  # the account's own sample values (the event type's sample())
    recipients = re.search(r'<ul id="preview-recipients">(.*?)</ul>', html, re.S).group(1)
    assert "Larry Landlord" in recipients and "Tina Tenant" not in recipients
    assert client.get("/notifications/messages").status_code == 403  # only what it holds

    saved = client.post(URL, data={**form, "action": "save"})
    assert saved.status_code == 302

    notify("testinvoices.invoice_due", account.id,
           {"invoice": {"number": "INV-2026-0007", "total": Money(12345, "USD"),
                        "due_date": date(2026, 12, 31)}}, dedupe_key="invoice:7")
    db.session.commit()
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["landlord@example.net"]
    body = received.message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Your invoice INV-2026-0007 of 123.45 USD is due on 2026-12-31")
