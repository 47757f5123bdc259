"""The weekly e-mail: next run in the ISP's time zone (daylight saving included), and the
whole road — the scheduler's tick, a real RQ worker (Redis), the notifications plugin's
delivery — to a real SMTP relay, with the report owner's permissions and each Monday sent
once."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from notif_helpers import smtp_settings
from reports_helpers import INVOICE_COLUMNS, INVOICE_QUERY, make_invoices

from backhaul.sdk import db


def _report(**schedule):
    from backhaul.plugins.reports.models import Report

    return Report(name="x", owner_id=1, query="", rows_path="", columns=[],
                  schedule_days=schedule.get("days", "1"),
                  schedule_time=schedule.get("time", "07:00"),
                  schedule_recipients="a@example.net", schedule_format="attach")


Z = UTC
NEXT_RUNS = [
    # (after, days, time, expected) — Europe/Berlin: CET (UTC+1), CEST (UTC+2) from
    # Sunday 29 March 2026 02:00 to Sunday 25 October 2026 03:00
    (datetime(2026, 12, 4, 8, 0, tzinfo=Z), "1", "07:00", datetime(2026, 12, 7, 6, 0, tzinfo=Z)),
    (datetime(2026, 3, 27, 12, 0, tzinfo=Z), "1", "07:00", datetime(2026, 3, 30, 5, 0, tzinfo=Z)),
    (datetime(2026, 12, 7, 5, 59, tzinfo=Z), "1", "07:00", datetime(2026, 12, 7, 6, 0, tzinfo=Z)),
    (datetime(2026, 12, 7, 6, 0, tzinfo=Z), "1", "07:00", datetime(2026, 12, 14, 6, 0, tzinfo=Z)),
    (datetime(2026, 12, 7, 6, 0, tzinfo=Z), "15", "07:00", datetime(2026, 12, 11, 6, 0, tzinfo=Z)),
    # 23:30 on Sunday in Berlin is still Sunday there, though Monday has begun nowhere
    (datetime(2026, 12, 6, 12, 0, tzinfo=Z), "7", "23:30", datetime(2026, 12, 6, 22, 30, tzinfo=Z)),
    # 02:30 on 29 March 2026 does not exist in Berlin: the clock jumps to 03:30 CEST
    (datetime(2026, 3, 28, 12, 0, tzinfo=Z), "7", "02:30", datetime(2026, 3, 29, 1, 30, tzinfo=Z)),
]


@pytest.mark.parametrize("after,days,time_,expected", NEXT_RUNS)
def test_next_run_in_the_isp_time_zone(app, after, days, time_, expected):
    from backhaul.plugins.reports.schedule import next_run

    assert next_run(_report(days=days, time=time_), after) == expected


def test_no_schedule_no_run(app):
    from backhaul.plugins.reports.schedule import next_run

    report = _report()
    report.schedule_recipients = ""
    assert next_run(report, datetime(2026, 1, 1, tzinfo=Z)) is None


@pytest.fixture
def redis_app(make_app, redis_url):
    application = make_app(plugins=["billing", "notifications", "reports"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}},
                           TIMEZONE="Europe/Berlin", redis_url=redis_url)
    with application.app_context():
        yield application


@pytest.mark.redis
def test_monday_report_reaches_the_relay_through_the_scheduler_and_a_worker(
        redis_app, relay, staff_user, rq_burst):
    from backhaul.core.scheduler import tick
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.plugins.reports import reports, schedule
    from backhaul.plugins.reports.models import Report
    from backhaul.sdk import utcnow

    save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                "settings": smtp_settings(relay.port)})
    db.session.commit()
    make_invoices()
    rq_burst(redis_app, ["default", "billing", "notifications"])  # what billing queued
    relay.inbox.clear()
    office = staff_user(["reports.view", "reports.manage", "billing.invoice.view"])
    clerk = staff_user(["reports.view", "reports.manage", "accounts.account.view"])

    saved = {}
    for who, fmt, to in ((office, "attach", "office@isp.example.net"),
                         (clerk, "inline", "clerk@isp.example.net")):
        with redis_app.test_request_context():
            from flask import g

            from backhaul.core.auth.identity import principal_for_user

            g.backhaul_principal = principal_for_user(who)
            saved[who.id] = reports.save({
                "name": f"Invoices of {who.name}", "query": INVOICE_QUERY,
                "rowsPath": "billingInvoices.edges", "columns": INVOICE_COLUMNS,
                "scheduleDays": "1", "scheduleTime": "07:00", "scheduleRecipients": to,
                "scheduleFormat": fmt}).id
            db.session.commit()
    now = utcnow()
    for report in db.session.query(Report):
        assert report.next_run_at.astimezone(schedule.isp_zone()).isoweekday() == 1
        assert report.next_run_at - now <= timedelta(days=7)
        report.next_run_at = now - timedelta(seconds=5)  # Monday 07:00 has come
    db.session.commit()

    tick(redis_app)  # the scheduler enqueues reports.send_due (and the other periodic jobs)
    rq_burst(redis_app, ["reports"])  # send_due, then one send_report per report
    rq_burst(redis_app, ["notifications"])  # the e-mails
    received = relay.wait_for(2)
    assert len(received) == 2, received
    mails = {r.rcpt_tos[0]: r.message for r in received}

    office_mail = mails["office@isp.example.net"]
    assert office_mail["Subject"].startswith(f"Report: Invoices of {office.name} (")
    [attachment] = list(office_mail.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    rows = list(csv.reader(io.StringIO(attachment.get_content())))
    assert rows == [["Invoice", "Status", "Total (minor units)"],  # newest first, as listed
                    ["INV-000003", "finalized", "5000"], ["INV-000002", "finalized", "5000"],
                    ["INV-000001", "finalized", "5000"]]

    clerk_mail = mails["clerk@isp.example.net"]
    body = clerk_mail.get_body(preferencelist=("plain",)).get_content()
    assert "INV-0000" not in clerk_mail.as_string()
    assert "billing.invoice.view" in body and "0 rows" in body
    assert not list(clerk_mail.iter_attachments())

    db.session.expire_all()
    for report in db.session.query(Report):  # moved to next Monday, 07:00 Berlin
        local = report.next_run_at.astimezone(schedule.isp_zone())
        assert (local.isoweekday(), local.hour, local.minute) == (1, 7, 0)
        assert report.next_run_at > now and report.last_error is None

    # the same Monday is never sent twice: a second tick finds nothing due, and the job run
    # again (at-least-once delivery) queues no new mail
    tick(redis_app)
    rq_burst(redis_app, ["reports"])
    slot = (now - timedelta(seconds=5)).strftime("%Y%m%dT%H%MZ")
    assert schedule.send_report(saved[office.id], slot) == "sent"
    rq_burst(redis_app, ["notifications"])
    assert len(relay.wait_for(3, timeout=1.0)) == 2


def test_a_deactivated_owners_report_is_not_sent(app, relay, email_channel, staff_user):
    from reports_helpers import ACCOUNT_COLUMNS, ACCOUNT_QUERY

    from backhaul.plugins.reports import schedule
    from backhaul.plugins.reports.models import Report

    owner = staff_user(["reports.view", "reports.manage", "accounts.account.view"])
    report = Report(name="Left the company", owner_id=owner.id, query=ACCOUNT_QUERY,
                    rows_path="accounts.edges", columns=ACCOUNT_COLUMNS, schedule_days="1",
                    schedule_time="07:00", schedule_recipients="office@isp.example.net",
                    schedule_format="attach")
    db.session.add(report)
    owner.is_active = False
    db.session.commit()
    assert schedule.send_report(report.id, "20261207T0600Z") == "owner inactive"
    assert "no longer an active staff member" in db.session.get(Report, report.id).last_error
    assert relay.wait_for(1, timeout=0.5) == []
