"""In Chromium: a ticket becomes a job, the job is booked on a technician's calendar, its
checklist is completed, and the tenant's notifications are in the delivery log."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.browser


def test_ticket_to_job_to_calendar_to_done(app, make_live_server, page, staff_user, field,
                                           ticket, email_channel, relay, tmp_path):
    from playwright.sync_api import expect

    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    user = staff_user(["tickets.ticket.view", "tickets.ticket.work", "scheduling.job.view",
                       "scheduling.job.manage", "notifications.messages.view",
                       "accounts.account.view"], name="Dana Dispatch")
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(live.url(f"/tickets/{ticket.id}"))
    page.get_by_role("link", name="Book a visit").click()
    page.get_by_label("Job type").select_option(label="Installation")
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#job-status")).to_have_text("new")

    page.get_by_label("Technician").select_option(label="Alex Fielder")
    page.get_by_label("Starts").fill(f"{monday.isoformat()}T09:00")
    page.get_by_role("button", name="Book").click()
    expect(page.locator(".flash").first).to_contain_text(f"booked for {monday:%a %d %b} 09:00 with Alex Fielder")
    expect(page.locator("#job-status")).to_have_text("booked")

    page.goto(live.url(f"/scheduling/calendar?date={monday.isoformat()}&view=week"))
    cell = page.locator("#calendar tr", has_text="Alex Fielder")
    expect(cell).to_contain_text("09:00–10:30")
    page.screenshot(path=str(tmp_path / "calendar.png"), full_page=True)
    cell.get_by_role("link").first.click()

    page.get_by_role("button", name="Complete job").click()
    expect(page.locator(".flash").first).to_contain_text("required tasks are open: "
                                                         "Mount the ONT, Test the speed")
    page.get_by_role("button", name="Done: Mount the ONT").click()
    page.get_by_role("button", name="Done: Test the speed").click()
    page.get_by_role("button", name="Complete job").click()
    expect(page.locator("#job-status")).to_have_text("done")
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)

    page.goto(live.url("/notifications/messages"))
    booked = page.locator("#messages tr", has_text="scheduling.job_booked")
    expect(booked).to_contain_text("tina@example.net")
    expect(booked).to_contain_text("sent")
    assert "Alex Fielder will come" in relay.wait_for(1)[0].message.get_content()
    page.goto(live.url(f"/tickets/{ticket.id}"))
    expect(page.locator("#thread")).to_contain_text("completed.")
