"""Notes (sanitised Markdown, pinning), the call log, and the merged account timeline."""
from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from backhaul.core.accounts.calls import calls_for, log_call
from backhaul.core.accounts.contacts import add_contact
from backhaul.core.accounts.notes import add_note, pinned_notes, set_pinned, update_note
from backhaul.core.accounts.scheduling import schedule_event
from backhaul.core.accounts.timeline import build_timeline
from backhaul.core.db import db, utcnow
from backhaul.sdk import TimelineEntry
from backhaul.sdk.accounts import create_account, set_status


@pytest.fixture
def account(app):
    account = create_account(name="Jane Doe")
    db.session.commit()
    return account


def test_markdown_is_rendered_and_sanitised(account):
    note = add_note(account, {"body": "**Dog** in unit <script>alert(1)</script> "
                                      "[gate](javascript:alert(1)) [map](https://x.example)",
                              "category": "pets"})
    assert "<strong>Dog</strong>" in note.body_html
    # raw HTML is shown as text, a javascript: link is not a link
    assert "<script" not in note.body_html and 'href="javascript' not in note.body_html
    assert 'href="https://x.example"' in note.body_html and "noopener" in note.body_html
    update_note(note, {"body": "<img src=x onerror=alert(1)> _ok_"})
    assert "<img" not in note.body_html and "<em>ok</em>" in note.body_html


def test_pinning_and_bad_notes(account):
    first = add_note(account, {"body": "Gate code 1234", "category": "access", "pinned": True})
    second = add_note(account, {"body": "CPE in the basement", "category": "cpe_access"})
    assert pinned_notes(account) == [first]
    set_pinned(second)
    assert pinned_notes(account) == [second, first]
    set_pinned(first, False)
    assert pinned_notes(account) == [second]
    with pytest.raises(ValidationError) as err:
        add_note(account, {"body": "", "category": "gossip"})
    assert set(err.value.messages) == {"body", "category"}


def test_call_log(account):
    contact = add_contact(account, {"name": "Jane", "email": "jane@example.com"})
    call = log_call(account, {"direction": "inbound", "contact_id": contact.id,
                              "duration_seconds": 240, "summary": "Wi-Fi drops at night",
                              "at": "2026-01-05T09:30"})
    assert call.at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC) and call.contact is contact
    assert calls_for(account) == [call]
    other = create_account(name="Other")
    stranger = add_contact(other, {"name": "Stranger", "email": "s@example.com"})
    with pytest.raises(ValidationError) as err:
        log_call(account, {"direction": "sideways", "summary": "", "duration_seconds": -1})
    assert set(err.value.messages) == {"direction", "summary", "duration_seconds"}
    with pytest.raises(ValidationError) as err:
        log_call(account, {"direction": "outbound", "summary": "x", "contact_id": stranger.id})
    assert "not a contact of account" in err.value.messages["contact_id"][0]
    with pytest.raises(ValidationError) as err:
        log_call(account, {"direction": "outbound", "summary": "x",
                           "at": (utcnow() + timedelta(days=1)).isoformat()})
    assert "future" in err.value.messages["at"][0]


def test_timeline_merges_everything_by_time(make_app, temp_plugin):
    def plugin_entries(account, limit):
        return [TimelineEntry(at=datetime(2030, 1, 1), kind="invoice", title="Invoice 7",
                              url="/billing/invoices/7", permission="fake_billing.view"),
                TimelineEntry(at=datetime(2031, 1, 1), kind="undeclared", title="no permission")]

    def broken(account, limit):
        raise RuntimeError("tickets database down")

    app = make_app(plugins=[], extra_plugins=[
        temp_plugin("fake_billing", account_timeline=plugin_entries),
        temp_plugin("fake_tickets", account_timeline=broken)])
    with app.app_context():
        account = create_account(name="Jane")
        db.session.commit()
        add_note(account, {"body": "hello"})
        log_call(account, {"direction": "outbound", "summary": "welcome call",
                           "at": (utcnow() - timedelta(hours=1)).isoformat()})
        set_status(account, "suspended")
        schedule_event(account, "change_status", utcnow() + timedelta(days=2),
                       {"status": "active"})
        db.session.commit()
        timeline = build_timeline(account)
        kinds = [e.kind for e in timeline]
        assert kinds[:2] == ["invoice", "scheduled_event"]  # 2030, then in two days
        assert "undeclared" not in kinds  # an entry without a permission is never shown
        assert {"note", "call", "status"} <= set(kinds)
        assert timeline[0].meta["plugin"] == "fake_billing"
        assert any(e.title == "Status: Active → Suspended" for e in timeline)
        assert kinds.count("status") == 2 and len(build_timeline(account, limit=3)) == 3


@pytest.mark.parametrize("hostile", ["[" * 20000, "![" * 10000, "*a" * 10000, "[a](" * 5000])
def test_hostile_markdown_renders_in_linear_time(hostile):
    """Issue 11 #4: 20,000 '[' (inside the field's limit) took 36.5 s with Python-Markdown.
    CPU time of this process, not wall time: other processes on a busy machine do not
    count against it (it once failed at load 10 on wall time)."""
    import time

    from backhaul.core.accounts.notes import render_markdown

    started = time.process_time()
    html = render_markdown(hostile)
    assert time.process_time() - started < 3 and html.startswith("<p>")
