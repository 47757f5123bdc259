"""RADIUS accounting through the radius plugin's ``accounting.record`` lands in the hourly
and daily rollups (64-bit totals, interim updates count, retransmissions do not); caps fire
once per threshold and period; the invoice splits free from billable usage; the source
choice keeps RADIUS and NetFlow from being counted twice."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from usage_helpers import make_subscriber

from backhaul.plugins.radius import accounting as acct
from backhaul.plugins.usage import rollup
from backhaul.plugins.usage.models import Daily, Hourly, ThresholdFired
from backhaul.sdk import db

G = 2**32


def _update(status, user, at, inp=0, out=0, session="sess-1"):
    return acct.Update(status, session, user, at, input_octets=inp, output_octets=out)


def _record(device, sub, account, update):
    acct.record(device.id, update, subscription_id=sub.id, account_id=account.id)
    db.session.commit()


def _rows(model, sub_id):
    db.session.expire_all()
    return {(getattr(r, "hour", None) or r.day, r.source): (r.bytes_down, r.bytes_up)
            for r in db.session.scalars(sa.select(model).where(
                model.subscription_id == sub_id))}


def test_accounting_start_interim_stop_with_gigawords_rolls_up_per_hour_and_day(app):
    account, sub, device = make_subscriber(app)
    user = f"pppoe{sub.id}"
    base = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) \
        - timedelta(days=1)
    _record(device, sub, account, _update(acct.START, user, base))
    # interim: 1 GiW + 100 from the subscriber, 3 GiW + 7 to it (64-bit totals)
    _record(device, sub, account, _update(acct.INTERIM, user, base + timedelta(minutes=5),
                                          G + 100, 3 * G + 7))
    # the same interim again (a retransmission) adds nothing
    _record(device, sub, account, _update(acct.INTERIM, user, base + timedelta(minutes=5),
                                          G + 100, 3 * G + 7))
    _record(device, sub, account, _update(acct.STOP, user, base + timedelta(minutes=70),
                                          G + 600, 3 * G + 1007))
    hours = _rows(Hourly, sub.id)
    assert hours == {(base, "radius"): (3 * G + 7, G + 100),
                     (base + timedelta(hours=1), "radius"): (1000, 500)}
    assert _rows(Daily, sub.id) == {(base.date(), "radius"): (3 * G + 1007, G + 600)}


def test_thresholds_fire_once_per_period(app, monkeypatch):
    from backhaul.plugins.notifications import api as notifications

    sent = []
    monkeypatch.setattr(notifications, "notify",
                        lambda key, account_id, ctx, **kw: sent.append(
                            (key, account_id, ctx["usage"]["percent"], kw["dedupe_key"])))
    account, sub, device = make_subscriber(app, allowance_gb=1)
    user = f"pppoe{sub.id}"
    now = datetime.now(UTC).replace(microsecond=0)
    at = max(now - timedelta(minutes=30), now.replace(day=1, hour=0, minute=0, second=0))
    _record(device, sub, account, _update(acct.START, user, at))
    _record(device, sub, account, _update(acct.INTERIM, user, at, 0, 700_000_000))
    assert sent == []
    _record(device, sub, account, _update(acct.INTERIM, user, at, 50_000_000, 760_000_000))
    assert [s[2] for s in sent] == [80]
    _record(device, sub, account, _update(acct.INTERIM, user, at, 60_000_000, 900_000_000))
    assert [s[2] for s in sent] == [80], "80% fires once"
    _record(device, sub, account, _update(acct.INTERIM, user, at, 100_000_000, 950_000_000))
    assert [s[2] for s in sent] == [80, 100]
    _record(device, sub, account, _update(acct.INTERIM, user, at, 200_000_000, 1_950_000_000))
    assert [s[2] for s in sent] == [80, 100], "100% fires once"
    assert all(s[0] == "usage.threshold" and s[1] == account.id for s in sent)
    fired = db.session.scalars(sa.select(ThresholdFired.percent).where(
        ThresholdFired.subscription_id == sub.id).order_by(ThresholdFired.percent)).all()
    assert fired == [80, 100]


def test_the_notification_event_type_is_declared(app):
    from backhaul.sdk import call_hook

    keys = [e.key for _, answer in call_hook("notification_event_types") for e in answer]
    assert "usage.threshold" in keys


def _next_month(day: date) -> tuple[date, date]:
    start = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def test_invoice_splits_free_from_billable_usage(app):
    """100 GB allowance, 130 GB used: 100 GB free, 30 GB billable at 1.00 a GB."""
    from backhaul.plugins.billing.api import Period
    from backhaul.sdk import call_hook

    account, sub, device = make_subscriber(app, allowance_gb=100)
    user = f"pppoe{sub.id}"
    at = datetime.now(UTC).replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    _record(device, sub, account, _update(acct.START, user, at))
    _record(device, sub, account, _update(acct.STOP, user, at + timedelta(minutes=1),
                                          30 * 10**9, 100 * 10**9))
    period = Period(*_next_month(at.date()))
    [(plugin, lines)] = [a for a in call_hook("invoice_lines", account=account, period=period)
                         if a[0] == "usage"]
    assert [(line.quantity, line.unit_price.amount) for line in lines] == [
        (Decimal("100.000"), 0), (Decimal("30.000"), 100)]
    assert "included" in lines[0].description and "over allowance" in lines[1].description
    assert lines[0].period.start == at.date().replace(day=1), "usage is billed in arrears"


def test_source_choice_counts_one_source_only(app):
    from backhaul.plugins.usage.totals import counted, set_source

    account, sub, device = make_subscriber(app)
    now = datetime.now(UTC)
    rollup.add([rollup.Delta(sub.id, now, 1000, 10, "radius"),
                rollup.Delta(sub.id, now, 990, 12, "netflow")])
    db.session.commit()
    today = now.date()
    assert counted([sub.id], today, today + timedelta(days=1)) == {sub.id: (1000, 10)}
    set_source(sub.id, "netflow")
    db.session.commit()
    assert counted([sub.id], today, today + timedelta(days=1)) == {sub.id: (990, 12)}
