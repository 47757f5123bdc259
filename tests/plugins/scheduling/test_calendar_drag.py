"""In Chromium: drag a job on the technician calendar (day and week views). A drop onto a
slot that clashes with another job is refused with a message naming that job and nothing
moves; a drop onto a free slot moves the job (keeping its length), the calendar shows the
new time, and the tenant's "visit moved" notification is in the delivery log and reached
the relay (a real SMTP server)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from backhaul.sdk import db

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("BACKHAUL_SCREENSHOTS")


def _shot(page, tmp_path, name):
    page.screenshot(path=os.path.join(SHOTS or str(tmp_path), f"{name}.png"), full_page=True)


@pytest.fixture
def two_jobs(app, field, ticket, email_channel):
    """Alex's next Monday: job 1 at 09:00 (90 min), job 2 at 13:00."""
    from backhaul.plugins.scheduling import jobs

    install, alex, _sam = field
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    first = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    second = jobs.create_job({"typeId": install.id, "accountId": ticket.account_id})
    jobs.book(first, alex.id, datetime.combine(monday, datetime.min.time(), UTC)
              + timedelta(hours=9))
    jobs.book(second, alex.id, datetime.combine(monday, datetime.min.time(), UTC)
              + timedelta(hours=13))
    db.session.commit()
    return monday, alex, first, second


def _slot(page, technician_id, when: str):
    return page.locator(f'.cal-slot[data-technician="{technician_id}"][data-start="{when}"]')


def test_drag_to_reschedule_refuses_a_clash_and_moves_to_a_free_slot(
        app, make_live_server, page, staff_user, two_jobs, email_channel, relay, tmp_path):
    from playwright.sync_api import expect

    from backhaul.plugins.scheduling.models import Job

    monday, alex, first, second = two_jobs
    relay.wait_for(2)  # the two "visit booked" mails
    user = staff_user(["scheduling.job.view", "scheduling.job.manage",
                       "notifications.messages.view", "tickets.ticket.view"],
                      name="Dana Dispatch")
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}&view=day"))
    chip = page.locator(f"#job-chip-{first.id}")
    expect(_slot(page, alex.id, f"{monday.isoformat()}T09:00")).to_contain_text(
        f"09:00–10:30 #{first.id}")
    _shot(page, tmp_path, "calendar-day-before")

    # 13:30 overlaps job 2 (13:00-14:30): refused, named, nothing moved
    chip.drag_to(_slot(page, alex.id, f"{monday.isoformat()}T13:30"))
    expect(page.locator(".flash").first).to_contain_text(
        f"Alex Fielder is booked for job #{second.id} at {monday.isoformat()} 13:00")
    assert "/scheduling/calendar" in page.url
    expect(_slot(page, alex.id, f"{monday.isoformat()}T09:00")).to_contain_text(
        f"#{first.id}")
    _shot(page, tmp_path, "calendar-day-clash")

    # 15:00 is free: moved, keeping its 90 minutes
    page.locator(f"#job-chip-{first.id}").drag_to(
        _slot(page, alex.id, f"{monday.isoformat()}T15:00"))
    expect(page.locator(".flash").first).to_contain_text(
        f"Job #{first.id} moved to {monday:%a %d %b} 15:00 with Alex Fielder")
    expect(_slot(page, alex.id, f"{monday.isoformat()}T15:00")).to_contain_text(
        f"15:00–16:30 #{first.id}")
    expect(_slot(page, alex.id, f"{monday.isoformat()}T09:00")).not_to_contain_text(
        f"#{first.id}")
    _shot(page, tmp_path, "calendar-day-moved")
    db.session.rollback()
    row = db.session.get(Job, first.id)
    assert row.starts_at == datetime.combine(monday, datetime.min.time(), UTC) + timedelta(
        hours=15)
    assert row.ends_at - row.starts_at == timedelta(minutes=90)

    # the week view: onto Tuesday 10:00
    tuesday = monday + timedelta(days=1)
    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}&view=week"))
    page.locator(f"#job-chip-{first.id}").drag_to(
        _slot(page, alex.id, f"{tuesday.isoformat()}T10:00"))
    expect(page.locator(".flash").first).to_contain_text(f"moved to {tuesday:%a %d %b} 10:00")
    expect(_slot(page, alex.id, f"{tuesday.isoformat()}T10:00")).to_contain_text(
        f"10:00–11:30 #{first.id}")
    _shot(page, tmp_path, "calendar-week-moved")

    # the tenant was told, twice (15:00 Monday, then 10:00 Tuesday), in the delivery log
    page.goto(live.url("/notifications/messages"))
    moved = page.locator("#messages tr", has_text="scheduling.job_rescheduled")
    expect(moved).to_have_count(2)
    expect(moved.first).to_contain_text("tina@example.net")
    texts = [m.message.get_content() for m in relay.wait_for(4)[2:]]
    assert any("at 15:00 with Alex Fielder" in t for t in texts), texts
    assert any(f"{tuesday:%A %d %B %Y} at 10:00" in t for t in texts), texts


def test_a_drop_outside_working_hours_or_in_the_past_is_refused(app, make_live_server, page,
                                                                staff_user, two_jobs,
                                                                tmp_path):
    from playwright.sync_api import expect

    monday, alex, first, _second = two_jobs
    user = staff_user(["scheduling.job.view", "scheduling.job.manage"])
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    # 16:00 + 90 minutes ends after Alex's 17:00
    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}"))
    page.locator(f"#job-chip-{first.id}").drag_to(
        _slot(page, alex.id, f"{monday.isoformat()}T16:00"))
    expect(page.locator(".flash").first).to_contain_text("Alex Fielder works 08:00-17:00")
    # a week ago is in the past
    last_week = monday - timedelta(days=7)
    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}&view=week"))
    page.evaluate("""([sel, when]) => { const s = document.querySelector(sel);
        s.setAttribute('data-start', when); }""",
                  [f'.cal-slot[data-technician="{alex.id}"]'
                   f'[data-start="{monday.isoformat()}T11:00"]',
                   f"{last_week.isoformat()}T11:00"])
    page.locator(f"#job-chip-{first.id}").drag_to(
        page.locator(f'.cal-slot[data-start="{last_week.isoformat()}T11:00"]'))
    expect(page.locator(".flash").first).to_contain_text("in the future")
