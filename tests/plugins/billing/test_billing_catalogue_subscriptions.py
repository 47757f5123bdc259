"""Catalogue, subscriptions and what the billing run puts on the invoice."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.billing import catalogue, checks, invoices, run, subscriptions
from backhaul.plugins.billing.models import Invoice, Subscription
from backhaul.sdk import Money, registered


def _invoices(db, account_id):
    return list(db.session.scalars(sa.select(Invoice).where(Invoice.account_id == account_id)
                                   .order_by(Invoice.id)))


def _lines(invoice):
    return [(line.description, line.amount, line.tax_amount) for line in invoice.lines]


def test_builtin_service_types_are_registered(app):
    types = registered("service_types")
    assert {"data", "voice", "general", "recurring", "one_time"} <= set(types)
    assert types["one_time"].charge == "one_time"
    assert types["data"].describe({"download_mbps": 100, "upload_mbps": 20,
                                   "allowance_gb": 500}) == "100/20 Mbps, 500 GB"


def test_service_parameters_are_validated(app, shop):
    with pytest.raises(ValidationError) as err:
        catalogue.create_service("Fiber X", "data", "10.00", currency="USD",
                                 params={"upload_mbps": 20})
    assert "download_mbps" in err.value.messages
    with pytest.raises(ValidationError) as err:
        catalogue.create_service("Nothing", "teleport", "1.00", currency="USD")
    assert "unknown service type" in err.value.messages["type"][0]


def test_first_invoice_prorates_the_stub_and_taxes_per_line(app, db, shop, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 10))
    subscriptions.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 3, 10))
    db.session.commit()
    assert run.run_billing(date(2026, 3, 1)).invoiced == 1
    [invoice] = _invoices(db, acct.id)
    # 22 of 31 days: 50.00 * 22/31 = 35.48387 -> 35.48; tax 10 % = 3.548 -> 3.55
    assert _lines(invoice) == [
        ("Fiber 100, 10 Mar 2026 - 31 Mar 2026 (prorated 22/31 days)", 3548, 355),
        ("Maintenance fee, 10 Mar 2026 - 31 Mar 2026 (prorated 22/31 days)", 1419, 0)]
    assert invoice.total_amount == 3548 + 355 + 1419
    assert invoice.display_number == "INV-000001" and invoice.due_date == date(2026, 3, 15)
    assert run.run_billing(date(2026, 4, 1)).invoiced == 1
    april = _invoices(db, acct.id)[-1]
    assert [amount for _, amount, _ in _lines(april)] == [5000, 2000]
    assert april.display_number == "INV-000002"


def test_rerunning_adds_nothing(app, db, shop, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    first = run.run_billing(date(2026, 3, 1))
    again = run.run_billing(date(2026, 3, 1))
    assert (first.invoiced, again.invoiced) == (1, 0)
    assert len(_invoices(db, acct.id)) == 1
    assert checks.problems() == {}


def test_catch_up_bills_every_missed_period_once(app, db, shop, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 1, 1))
    db.session.commit()
    result = run.run_billing(date(2026, 3, 5))
    starts = [inv.period_start for inv in _invoices(db, acct.id)]
    assert result.invoiced == 3
    assert starts == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_quarterly_service_is_billed_each_quarter(app, db, shop, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.quarterly_tv, start_date=date(2026, 1, 1))
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 1, 1))
    db.session.commit()
    for month in range(1, 5):
        run.run_billing(date(2026, month, 1))
    tv = [[line.amount for line in inv.lines if "IPTV" in line.description]
          for inv in _invoices(db, acct.id)]
    assert tv == [[3000], [], [], [3000]]


def test_package_priced_as_sum_bills_each_part(app, db, shop, make_account):
    bundle = catalogue.create_package("Home bundle", [(shop.fiber, 1), (shop.voice, 2)],
                                      currency="USD", pricing="sum")
    flat = catalogue.create_package("Flat bundle", [(shop.fiber, 1), (shop.voice, 1)],
                                    currency="USD", price="55.00", tax_class="standard")
    a, b = make_account("A"), make_account("B")
    subscriptions.subscribe(a.id, package=bundle, start_date=date(2026, 3, 1))
    subscriptions.subscribe(b.id, package=flat, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    [inv_a], [inv_b] = _invoices(db, a.id), _invoices(db, b.id)
    assert [(d.split(",")[0], amt, tax) for d, amt, tax in _lines(inv_a)] == [
        ("Home bundle: Fiber 100", 5000, 500), ("Home bundle: Home phone", 3000, 300)]
    assert [(amt, tax) for _, amt, tax in _lines(inv_b)] == [(5500, 550)]


def test_package_parts_must_share_its_frequency(app, shop):
    with pytest.raises(ValidationError) as err:
        catalogue.create_package("Odd", [(shop.fiber, 1), (shop.quarterly_tv, 1)],
                                 currency="USD", pricing="sum")
    assert "frequency" in err.value.messages["items"][0]


def test_mid_cycle_price_change_credits_old_and_charges_new(app, db, shop, make_account):
    acct = make_account()
    sub = subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 4, 1))
    db.session.commit()
    run.run_billing(date(2026, 4, 1))  # billed through 1 May at 50.00
    new = subscriptions.change_subscription(sub, date(2026, 4, 16), price_override="80.00")
    db.session.commit()
    run.run_billing(date(2026, 5, 1))
    may = _invoices(db, acct.id)[-1]
    amounts = sorted(line.amount for line in may.lines)
    # credit 15/30 of 50.00, charge 15/30 of 80.00 for April, then May at 80.00
    assert amounts == [-2500, 4000, 8000]
    assert db.session.get(Subscription, new.id).billed_through == date(2026, 6, 1)
    again = subscriptions.change_subscription(sub, date(2026, 4, 16), price_override="80.00")
    assert again.id == new.id  # idempotent


def test_non_prorated_change_keeps_the_billed_cycle(app, db, shop, make_account):
    flat = catalogue.create_service("Static IP", "general", "10.00", currency="USD",
                                    prorate=False)
    acct = make_account()
    sub = subscriptions.subscribe(acct.id, service=flat, start_date=date(2026, 4, 10))
    db.session.commit()
    run.run_billing(date(2026, 4, 1))
    assert [line.amount for line in _invoices(db, acct.id)[0].lines] == [1000]
    subscriptions.change_subscription(sub, date(2026, 4, 20), price_override="12.00")
    db.session.commit()
    run.run_billing(date(2026, 5, 1))
    assert [line.amount for line in _invoices(db, acct.id)[-1].lines] == [1200]


def test_ending_a_subscription_credits_unused_days(app, db, shop, make_account):
    acct = make_account()
    sub = subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 4, 1))
    subscriptions.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 4, 1))
    db.session.commit()
    run.run_billing(date(2026, 4, 1))
    subscriptions.end_subscription(sub, date(2026, 4, 21))
    db.session.commit()
    run.run_billing(date(2026, 5, 1))
    may = _invoices(db, acct.id)[-1]
    assert sorted(_lines(may), key=lambda t: t[1]) == [
        ("Credit: Fiber 100, unused 21 Apr 2026 - 30 Apr 2026", -1667, -167),
        ("Maintenance fee, 01 May 2026 - 31 May 2026", 2000, 0)]


def test_scheduled_price_change_runs_through_the_core_scheduler(app, db, shop, make_account):
    from backhaul.core.accounts.scheduling import run_event, schedule_event

    today = date.today()
    start = today - timedelta(days=20)
    acct = make_account()
    sub = subscriptions.subscribe(acct.id, service=shop.fiber, start_date=start)
    event = schedule_event(acct, "billing.price_change", today,
                           {"subscription_id": sub.id, "price": "60.00"})
    db.session.commit()
    assert run_event(event.id) == "done"
    assert run_event(event.id) == "skipped"
    subs = db.session.scalars(sa.select(Subscription).where(Subscription.account_id == acct.id)
                              .order_by(Subscription.id)).all()
    assert [(s.start_date, s.end_date, s.price_override) for s in subs] == [
        (start, today, None), (today, None, Money(6000, "USD"))]


def test_one_time_charge_is_billed_once(app, db, shop, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    subscriptions.add_charge(acct.id, "Installation", "99.00", charge_date=date(2026, 3, 1),
                             service=shop.install)
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    run.run_billing(date(2026, 4, 1))
    march, april = _invoices(db, acct.id)
    assert "Installation" in [d for d, _, _ in _lines(march)]
    assert "Installation" not in [d for d, _, _ in _lines(april)]


def test_discounts_and_credits(app, db, shop, make_account):
    acct = make_account()
    fiber = subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    subscriptions.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 3, 1))
    subscriptions.add_adjustment(acct.id, mode="percent", percent="10", recurring=True,
                                 start_date=date(2026, 3, 1), subscription=fiber,
                                 label="Loyalty")
    subscriptions.add_adjustment(acct.id, mode="fixed", amount="100.00", kind="credit",
                                 start_date=date(2026, 3, 1), label="Outage credit")
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    run.run_billing(date(2026, 4, 1))
    march, april = _invoices(db, acct.id)
    # March: 50 + 5 tax + 20 - 5 (-0.5 tax) = 69.50, credit (100) capped at 69.50
    assert march.total_amount == 0
    assert ("Loyalty (10%)", -500, -50) in _lines(march)
    # April: the rest of the credit, 30.50
    assert april.total_amount == 6950 - 3050
    assert checks.problems() == {}


@pytest.mark.billing_settings(printed_invoice_fee="2.50")
def test_tax_exempt_account_and_printed_invoice_fee(app, db, shop, make_account):
    from backhaul.plugins.billing import accounts

    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    accounts.update(acct.id, tax_exempt=True, delivery="printed")
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    [invoice] = _invoices(db, acct.id)
    assert _lines(invoice) == [("Fiber 100, 01 Mar 2026 - 31 Mar 2026", 5000, 0),
                               ("Printed invoice fee", 250, 0)]


@pytest.mark.billing_settings(billing_day="anniversary")
def test_anniversary_billing_day(app, shop, db, make_account):
    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 17))
    db.session.commit()
    run.run_billing(date(2026, 3, 17))
    run.run_billing(date(2026, 4, 17))
    assert [(i.period_start, i.total_amount) for i in _invoices(db, acct.id)] == [
        (date(2026, 3, 17), 5500), (date(2026, 4, 17), 5500)]


def test_manual_invoice_lifecycle(app, db, shop, make_account):
    acct = make_account()
    draft = invoices.create_draft(acct.id)
    invoices.add_line(draft, "Router", "120.00", tax_class="standard")
    invoices.add_line(draft, "Cable", "2.50", quantity=4)
    assert draft.number is None and draft.display_number == "DRAFT"
    invoices.finalize(draft, date(2026, 3, 3))
    db.session.commit()
    assert (draft.status, draft.display_number, draft.total_amount) == (
        "finalized", "INV-000001", 12000 + 1200 + 1000)
    with pytest.raises(ValidationError):
        invoices.add_line(draft, "More", "1.00")
    with pytest.raises(ValidationError):
        invoices.finalize(draft)


def test_a_period_with_only_credits_becomes_a_credit_note(app, db, shop, make_account):
    from backhaul.plugins.billing import ledger

    acct = make_account()
    sub = subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 4, 1))
    db.session.commit()
    run.run_billing(date(2026, 4, 1))
    ledger.record_payment(acct.id, "55.00", method="cash")
    subscriptions.end_subscription(sub, date(2026, 4, 21))
    db.session.commit()
    run.run_billing(date(2026, 5, 1))
    note = _invoices(db, acct.id)[-1]
    assert (note.kind, note.display_number, note.total_amount) == ("credit_note", "CN-000001",
                                                                   1667 + 167)
    assert _lines(note) == [("Credit: Fiber 100, unused 21 Apr 2026 - 30 Apr 2026", 1667, 167)]
    from backhaul.plugins.billing import accounts

    assert accounts.balance(acct.id).amount == -(1667 + 167)  # credit for the next invoice
    assert checks.problems() == {}
