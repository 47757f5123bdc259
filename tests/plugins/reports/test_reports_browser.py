"""In Chromium: an office manager writes a report (a bad column first: the field error),
runs it, sorts it by a column both ways, downloads the CSV and schedules the Monday e-mail."""
from __future__ import annotations

import csv
import io

import pytest

from backhaul.sdk.testing.browser import sign_in

pytestmark = pytest.mark.browser


def test_save_run_sort_download_schedule(app, make_live_server, page, people, invoices,
                                         tmp_path):
    from playwright.sync_api import expect

    office, _ = people
    live = make_live_server(app)
    sign_in(page, live, office)

    page.goto(live.url("/reports/"))
    page.get_by_role("link", name="New report").click()
    page.get_by_label("Name").fill("Customers")
    # the example query is there already; a column it does not select is refused
    page.get_by_label("Columns").fill("node.number | Account\nnode.email | E-mail")
    page.get_by_role("button", name="Save report").click()
    expect(page.locator(".field-error")).to_contain_text("'node.email' is not selected")
    page.screenshot(path=str(tmp_path / "report-edit-error.png"), full_page=True)
    page.get_by_label("Columns").fill("node.number | Account\nnode.name | Name\n"
                                      "node.status.name | Status")
    page.get_by_role("button", name="Save report").click()
    expect(page.locator(".flash").first).to_contain_text("Report 'Customers' saved.")

    table = page.locator("#report-table")
    names = table.locator("tbody tr td:nth-child(2)")
    expect(names).to_have_count(3)
    page.get_by_role("link", name="Name").click()
    expect(names).to_have_text(['=HYPERLINK("http://evil.example")', "Bea Baker",
                                "Carl Cooper"])
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="Name").click()
    expect(names).to_have_text(["Carl Cooper", "Bea Baker",
                                '=HYPERLINK("http://evil.example")'])
    page.screenshot(path=str(tmp_path / "report-sorted.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "customers.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [r[1] for r in rows] == ["Name", "Carl Cooper", "Bea Baker",
                                    "'=HYPERLINK(\"http://evil.example\")"]

    page.get_by_label("Mon").check()
    page.get_by_label("Time (Europe/Berlin)").fill("07:00")
    page.get_by_label("Recipients").fill("office@isp.example.net")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#schedule-summary")).to_contain_text(
        "E-mailed on Mon at 07:00 (Europe/Berlin) to office@isp.example.net")
    page.screenshot(path=str(tmp_path / "report-scheduled.png"), full_page=True)
    page.goto(live.url("/reports/"))
    expect(page.locator("#reports")).to_contain_text("to office@isp.example.net")
    page.screenshot(path=str(tmp_path / "reports-list.png"), full_page=True)
