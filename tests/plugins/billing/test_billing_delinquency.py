"""Delinquency (the state machine and its status events) and fees."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing import accounts, checks, delinquency, fees, ledger, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Delinquency, Invoice

SETTINGS = {"reconnection_fee": "25.00", "grace_days": 5, "due_days": 14}


@pytest.fixture
def status_app(billing_app, temp_plugin):
    """Billing plus a subscriber recording ``account_status_changed`` (``app.events``)."""
    seen: list = []
    probe = temp_plugin("status_probe", account_status_changed=lambda account_id, old_status,
                        new_status, reason: seen.append((account_id, old_status, new_status,
                                                         reason)))

    def factory(**settings):
        application = billing_app(extra_plugins=[probe], **{**SETTINGS, **settings})
        application.events = seen
        return application

    return factory


def _status(db, account):
    db.session.refresh(account)
    return account.status.key


def _maintenance_tenant(db, shop, make_account, name="Late tenant"):
    acct = make_account(name)
    subs.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))  # due 15 Mar; + 5 grace days: delinquent from 21 Mar
    return acct


def test_unpaid_maintenance_fee_makes_delinquent_and_paying_restores(
        status_app, request, db, make_account):
    app = status_app()
    with app.app_context():
        shop = request.getfixturevalue("shop")
        acct = _maintenance_tenant(db, shop, make_account)
        app.events.clear()
        assert delinquency.run_nightly(date(2026, 3, 20)) == {}  # still within grace
        preview = delinquency.preview(date(2026, 3, 21))
        assert [p.account_id for p in preview] == [acct.id]
        assert "INV-000001 due 2026-03-15" in preview[0].reason
        assert delinquency.run_nightly(date(2026, 3, 21)) == {"delinquent": 1}
        assert _status(db, acct) == "delinquent"
        assert app.events == [(acct.id, "active", "delinquent", "delinquency")]
        assert delinquency.run_nightly(date(2026, 3, 22)) == {}  # no second transition

        invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == acct.id))
        ledger.record_payment(acct.id, "20.00", method="cash", invoice=invoice)
        db.session.commit()
        assert _status(db, acct) == "active"
        assert app.events[-1] == (acct.id, "delinquent", "active", "delinquency_cleared")
        fee = db.session.scalar(sa.select(Invoice).where(Invoice.key.like("reconnect:%")))
        assert fee.total_amount == 2500 and fee.lines[0].description == "Reconnection fee"
        assert accounts.balance(acct.id).amount == 2500
        assert db.session.get(Delinquency, acct.id).state == "current"
        assert checks.problems() == {}


def test_partial_payment_keeps_the_account_delinquent(status_app, request, db, make_account):
    with status_app().app_context():
        shop = request.getfixturevalue("shop")
        acct = _maintenance_tenant(db, shop, make_account)
        delinquency.run_nightly(date(2026, 3, 21))
        ledger.record_payment(acct.id, "5.00", method="cash")
        db.session.commit()
        assert _status(db, acct) == "delinquent"


def test_restores_to_the_previous_status_and_nightly_restores_too(
        status_app, request, db, make_account):
    from backhaul.plugins.billing import invoices

    with status_app(reconnection_fee="0").app_context():
        shop = request.getfixturevalue("shop")
        acct = _maintenance_tenant(db, shop, make_account)
        delinquency.run_nightly(date(2026, 3, 21))
        invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == acct.id))
        invoices.credit_note(invoice, "waived")  # cleared without a payment
        db.session.commit()
        assert _status(db, acct) == "active"
        assert db.session.scalar(sa.select(sa.func.count(Invoice.id)).where(
            Invoice.key.like("reconnect:%"))) == 0


def test_exclusions(status_app, request, db, make_account):
    app = status_app(delinquency_excluded_dates=["2026-03-21"])
    with app.app_context():
        shop = request.getfixturevalue("shop")
        excluded = _maintenance_tenant(db, shop, make_account, "VIP")
        accounts.update(excluded.id, delinquency_excluded=True)
        other = _maintenance_tenant(db, shop, make_account, "Other")
        db.session.commit()
        assert delinquency.run_nightly(date(2026, 3, 21)) == {}  # an excluded date
        assert [p.account_id for p in delinquency.preview(date(2026, 3, 22))] == [other.id]
        spared = delinquency.preview(date(2026, 3, 22), include_spared=True)
        assert [(p.account_id, p.excluded) for p in spared] == [
            (excluded.id, "account excluded from delinquency"), (other.id, "")]
        assert delinquency.run_nightly(date(2026, 3, 22)) == {"delinquent": 1}
        assert (_status(db, excluded), _status(db, other)) == ("active", "delinquent")


def test_inactive_accounts_are_not_suspended(status_app, request, db, make_account):
    from backhaul.sdk.accounts import set_status

    with status_app().app_context():
        shop = request.getfixturevalue("shop")
        acct = _maintenance_tenant(db, shop, make_account)
        set_status(acct, "moved_out", reason="move_out")
        db.session.commit()
        assert delinquency.preview(date(2026, 3, 21)) == []
        assert delinquency.run_nightly(date(2026, 3, 21)) == {}
        assert _status(db, acct) == "moved_out"


def test_state_machine_table():
    nxt = delinquency.next_state
    assert nxt("current", overdue=True, excluded=False, active=True) == "delinquent"
    assert nxt("current", overdue=True, excluded=True, active=True) == "current"
    assert nxt("current", overdue=True, excluded=False, active=False) == "current"
    assert nxt("delinquent", overdue=True, excluded=True, active=True) == "delinquent"
    assert nxt("delinquent", overdue=False, excluded=False, active=True) == "current"
    assert nxt("current", overdue=False, excluded=False, active=True) == "current"


@pytest.mark.billing_settings(late_fee="5.00", late_fee_after_days=3)
def test_late_fee_once_per_invoice_and_never_on_a_fee(app, db, shop, make_account):
    acct = _maintenance_tenant(db, shop, make_account)
    assert fees.charge_late_fees(date(2026, 3, 18)) == 0  # due 15 Mar + 3 days: not yet
    assert fees.charge_late_fees(date(2026, 3, 19)) == 1
    assert fees.charge_late_fees(date(2026, 3, 20)) == 0
    assert fees.charge_late_fees(date(2026, 4, 30)) == 0  # not on the late fee itself
    fee = db.session.scalar(sa.select(Invoice).where(Invoice.key.like("late_fee:%")))
    assert (fee.total_amount, fee.lines[0].description) == (500, "Late fee for INV-000001")
    assert accounts.balance(acct.id).amount == 2500


@pytest.mark.billing_settings(late_fee="10", late_fee_mode="percent", late_fee_after_days=0)
def test_percentage_late_fee_on_the_amount_due(app, db, shop, make_account):
    acct = _maintenance_tenant(db, shop, make_account)
    ledger.record_payment(acct.id, "5.00", method="cash")
    db.session.commit()
    assert fees.charge_late_fees(date(2026, 3, 16)) == 1
    fee = db.session.scalar(sa.select(Invoice).where(Invoice.key.like("late_fee:%")))
    assert fee.total_amount == 150  # 10 % of the 15.00 still due


def test_standing_of_an_overdue_account_is_never_current(app, db, shop, make_account):
    """Issue 10 defect 4: 49 days overdue showed "current" while the suspension list had it."""
    from backhaul.plugins.billing.graphql import account_summary

    acct = _maintenance_tenant(db, shop, make_account)  # due 15 Mar, grace 5 days
    today = date(2026, 5, 3)  # 49 days past due
    assert [p.account_id for p in delinquency.preview(today)] == [acct.id]
    assert delinquency.standing(acct.id, today) == "overdue"
    assert delinquency.standing(acct.id, date(2026, 3, 10)) == "current"  # not yet due
    assert account_summary(acct.id)["delinquency"] != "current"
    delinquency.run_nightly(today)
    assert delinquency.standing(acct.id, today) == "delinquent"
