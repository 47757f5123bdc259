"""Manual and maintenance notices: account selection, recipient preview, sending once."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backhaul.plugins.notifications import notices
from backhaul.plugins.notifications.models import Message, Notice
from backhaul.sdk import db
from backhaul.sdk.accounts import (
    add_contact,
    create_account,
    create_address,
    create_building,
    set_status,
)

PLACE = {"city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"}


@pytest.fixture
def town(app):
    """Maple Court (units 101-104: three tenants, 104 vacant after a move-out) and Oak St."""
    from backhaul.core.accounts.accounts import move_out_now

    court = create_building({"name": "Maple Court", "street": "12 Maple Street", **PLACE})
    units = [create_address({"street": "12 Maple Street", "unit": u, "building_id": court.id,
                             **PLACE}) for u in ("101", "102", "103", "104")]
    oak = create_address({"street": "5 Oak Street", **PLACE})
    accounts = {}
    for name, address, groups in [("Ann", units[0], ["VIP"]), ("Bob", units[1], []),
                                  ("Cat", units[2], []), ("Dan", units[3], ["VIP"]),
                                  ("Eve", oak, ["VIP"])]:
        account = create_account(name=name, address_id=address.id, groups=groups)
        add_contact(account, {"name": name, "email": f"{name.lower()}@example.net"})
        accounts[name] = account
    add_contact(accounts["Ann"], {"name": "Ann's partner", "email": "partner@example.net",
                                  "preferences": {"outages": {"email": False}}})
    set_status(accounts["Cat"], "suspended")
    move_out_now(accounts["Dan"])
    db.session.commit()
    return court, accounts


def names(selection: dict) -> list[str]:
    from backhaul.sdk.accounts import Account

    stmt, _ = notices.accounts_stmt(selection)
    return sorted(db.session.scalars(sa.select(Account.name).where(Account.id.in_(stmt))))


def test_selection_criteria_combine_with_and(app, town):
    court, _ = town
    assert names({"buildings": [court.id]}) == ["Ann", "Bob", "Cat"]  # Dan moved out
    assert names({"buildings": [court.id], "statuses": ["active"]}) == ["Ann", "Bob"]
    vip = db.session.scalar(sa.text("SELECT id FROM core_account_group WHERE name = 'VIP'"))
    assert names({"groups": [vip]}) == ["Ann", "Dan", "Eve"]
    assert names({"groups": [vip], "buildings": [court.id]}) == ["Ann"]
    assert names({"addresses": "5 Oak St\n12 Maple St #102"}) == ["Bob", "Eve"]
    _, unmatched = notices.accounts_stmt({"addresses": "99 Nowhere Road\n5 oak street"})
    assert unmatched == ["99 Nowhere Road"]


def test_recipient_preview_counts_and_excludes(app, town):
    court, _ = town
    found = notices.preview_recipients({"buildings": [court.id]}, ["email", "sms"], "outages",
                                       False)
    assert found.accounts == 3
    assert found.recipients == {"email": 3, "sms": 0}
    assert found.excluded == {"email": 1, "sms": 4}  # the partner opted out; nobody wants SMS
    assert sorted(c.name for _, c, _, _ in found.sample) == ["Ann", "Bob", "Cat"]
    assert found.missing_channels == ["email", "sms"]  # none configured yet
    essential = notices.preview_recipients({"buildings": [court.id]}, ["email"], "outages",
                                           True)
    assert essential.recipients == {"email": 4}


def test_preview_then_send_through_the_pages(app, town, smtp_server, email_channel, staff_user,
                                             login, csrf_token):
    court, _ = town
    email_channel(smtp_server.port)
    client = app.test_client()
    login(client, staff_user(["notifications.notices.send"]))
    form = {"csrf_token": csrf_token(client), "title": "Fibre works", "category": "outages",
            "media": "email", "buildings": str(court.id),
            "subject": "Works at {{ account.address }}",
            "body_text": "Dear {{ contact.name }}, the fibre in your building is being "
                         "replaced on Tuesday."}
    bad = client.post("/notifications/notices/new",
                      data={**form, "body_text": "Dear {{ contact.nam }}", "action": "preview"})
    assert bad.status_code == 422 and b"unknown variable" in bad.data

    preview = client.post("/notifications/notices/new", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert b'<p id="recipient-count"><strong>3</strong> messages to' in preview.data
    saved = client.post("/notifications/notices/new", data={**form, "action": "save"})
    assert saved.status_code == 302
    notice = db.session.scalar(sa.select(Notice))
    page = client.get(f"/notifications/notices/{notice.id}")
    assert b"Send to 3 recipients" in page.data

    sent = client.post(f"/notifications/notices/{notice.id}/send",
                       data={"csrf_token": csrf_token(client)})
    assert sent.status_code == 302
    inbox = smtp_server.wait_for(3)
    assert sorted(r.rcpt_tos[0] for r in inbox) == ["ann@example.net", "bob@example.net",
                                                    "cat@example.net"]
    assert inbox[0].message["Subject"].startswith("Works at 12 Maple Street #10")
    db.session.expire_all()
    notice = db.session.get(Notice, notice.id)
    assert (notice.status, notice.recipient_count) == ("sent", 3)

    # sending twice (a double click, a re-run job) sends nothing new
    again = client.post(f"/notifications/notices/{notice.id}/send",
                        data={"csrf_token": csrf_token(client)})
    assert again.status_code == 302
    notice.status = "sending"
    db.session.commit()
    assert notices.expand_notice(notice.id) == 0
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 3
    assert len(smtp_server.wait_for(4, timeout=0.3)) == 3
