"""Invoices' states, numbering, voids, credit notes, payments, allocation and reversals."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.billing import accounts, checks, invoices, ledger, numbering
from backhaul.plugins.billing.models import Allocation, Invoice, Payment, Transaction
from backhaul.sdk import Money


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


@pytest.fixture
def invoice_for(db, shop):
    """``invoice_for(account, "100.00", day)``: a finalized invoice (no tax)."""
    def make(account, amount: str, day: date = date(2026, 3, 1)) -> Invoice:
        draft = invoices.create_draft(account.id)
        invoices.add_line(draft, "Service", amount)
        invoices.finalize(draft, day)
        db.session.commit()
        return draft

    return make


def test_payment_pays_oldest_first_and_overpayment_stays_as_credit(
        app, db, make_account, invoice_for):
    acct = make_account()
    older = invoice_for(acct, "30.00", date(2026, 1, 1))
    newer = invoice_for(acct, "50.00", date(2026, 2, 1))
    ledger.record_payment(acct.id, "40.00", method="cash")
    db.session.commit()
    assert (older.status, newer.status, newer.paid_amount) == ("paid", "partially_paid", 1000)
    ledger.record_payment(acct.id, "60.00", method="cheque", reference="CHQ-1")
    db.session.commit()
    assert newer.status == "paid"
    assert accounts.balance(acct.id) == usd("-20.00")
    assert ledger.available_credit(acct.id, "USD") == usd("20.00")
    third = invoice_for(acct, "25.00", date(2026, 3, 1))  # credit applied on finalize
    assert (third.status, third.paid_amount) == ("partially_paid", 2000)
    assert accounts.balance(acct.id) == usd("5.00")
    assert checks.problems() == {}


def test_payment_aimed_at_an_invoice_goes_there_first(app, db, make_account, invoice_for):
    acct = make_account()
    older = invoice_for(acct, "30.00", date(2026, 1, 1))
    newer = invoice_for(acct, "50.00", date(2026, 2, 1))
    ledger.record_payment(acct.id, "50.00", method="bank_transfer", invoice=newer)
    db.session.commit()
    assert (older.status, newer.status) == ("finalized", "paid")


@pytest.mark.billing_settings(allocation_order="newest_first")
def test_allocation_order_is_configurable(app, db, make_account, invoice_for):
    acct = make_account()
    older = invoice_for(acct, "30.00", date(2026, 1, 1))
    newer = invoice_for(acct, "50.00", date(2026, 2, 1))
    ledger.record_payment(acct.id, "50.00", method="cash")
    db.session.commit()
    assert (older.status, newer.status) == ("finalized", "paid")


def test_payments_are_idempotent_by_key(app, db, make_account, invoice_for):
    acct = make_account()
    invoice_for(acct, "30.00")
    first = ledger.record_payment(acct.id, "30.00", method="bank_transfer", key="bank:T1")
    again = ledger.record_payment(acct.id, "30.00", method="bank_transfer", key="bank:T1")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_reversal_reopens_the_invoices_it_paid(app, db, make_account, invoice_for):
    acct = make_account()
    a = invoice_for(acct, "30.00", date(2026, 1, 1))
    b = invoice_for(acct, "50.00", date(2026, 2, 1))
    payment = ledger.record_payment(acct.id, "100.00", method="cheque")
    db.session.commit()
    assert (a.status, b.status, accounts.balance(acct.id)) == ("paid", "paid", usd("-20.00"))
    ledger.reverse_payment(payment, "cheque bounced")
    db.session.commit()
    assert (a.status, a.paid_amount, b.status) == ("finalized", 0, "finalized")
    assert accounts.balance(acct.id) == usd("80.00")
    with pytest.raises(ValidationError):
        ledger.reverse_payment(payment, "again")
    assert checks.problems() == {}


def test_refund_only_of_unallocated_credit(app, db, make_account, invoice_for):
    acct = make_account()
    invoice_for(acct, "30.00")
    payment = ledger.record_payment(acct.id, "50.00", method="cash")
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        ledger.refund(payment, usd("25.00"))
    assert "at most 20.00 USD" in err.value.messages["amount"][0]
    ledger.refund(payment, usd("20.00"), "moved away")
    db.session.commit()
    assert accounts.balance(acct.id) == usd("0.00")
    assert checks.problems() == {}


def test_void_unpaid_invoice_credits_the_ledger(app, db, make_account, invoice_for):
    acct = make_account()
    invoice = invoice_for(acct, "30.00")
    invoices.void(invoice, "billed by mistake")
    db.session.commit()
    assert invoice.status == "void" and accounts.balance(acct.id) == usd("0.00")
    with pytest.raises(ValidationError):
        invoices.void(invoice, "twice")


def test_credit_notes(app, db, make_account, invoice_for, shop):
    acct = make_account()
    draft = invoices.create_draft(acct.id)
    invoices.add_line(draft, "Fiber", "100.00", tax_class="standard")
    invoices.finalize(draft, date(2026, 3, 1))
    db.session.commit()
    note = invoices.credit_note(draft, "outage", "55.00")
    db.session.commit()
    assert note.display_number == "CN-000001"
    assert (note.total_amount, note.tax_amount) == (5500, 500)
    assert (draft.status, draft.paid_amount) == ("partially_paid", 5500)
    with pytest.raises(ValidationError) as err:
        invoices.credit_note(draft, "more", "56.00")
    assert "at most 55.00 USD" in err.value.messages["amount"][0]
    invoices.credit_note(draft, "the rest")
    db.session.commit()
    assert draft.status == "paid" and accounts.balance(acct.id) == usd("0.00")
    assert checks.problems() == {}


def test_numbers_are_gap_free_even_after_a_rollback(app, db, make_account, invoice_for):
    acct = make_account()
    invoice_for(acct, "1.00")
    draft = invoices.create_draft(acct.id)
    invoices.add_line(draft, "x", "1.00")
    invoices.finalize(draft)
    assert draft.number == 2
    db.session.rollback()  # number 2 was never committed
    third = invoice_for(acct, "1.00")
    assert third.number == 2
    assert numbering.take("INV") == 3


def test_gap_free_numbering_under_concurrency(app, db, make_account):
    """Two sessions finalizing at once queue on the counter row: no gap, no duplicate."""
    import threading

    from backhaul.plugins.billing.models import InvoiceCounter

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serialises writers anyway)")
    numbering.take("INV")
    db.session.commit()
    numbers, errors = [], []

    def worker():
        with app.app_context():
            try:
                for _ in range(20):
                    numbers.append(numbering.take("INV"))
                    db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == list(range(2, 82))
    assert db.session.get(InvoiceCounter, "INV").next_number == 82


# ------------------------------------------------------------------------------ bad input
def _counts(db):
    from backhaul.plugins.billing import models

    tables = [models.Subscription, models.Invoice, models.InvoiceLine, models.Transaction,
              models.Payment, models.Allocation, models.Charge, models.Adjustment]
    return {t.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in tables}


def _refused(db, func, field: str, text: str):
    before = _counts(db)
    with pytest.raises(ValidationError) as err:
        func()
    db.session.rollback()
    assert text in " ".join(err.value.messages[field]), err.value.messages
    assert _counts(db) == before


def test_bad_input_is_refused_and_nothing_is_written(app, db, shop, make_account, invoice_for):
    from backhaul.plugins.billing import subscriptions

    acct = make_account()
    subscriptions.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    _refused(db, lambda: subscriptions.subscribe(
        acct.id, service=shop.voice, quantity=0, start_date=date(2026, 3, 1)),
        "quantity", "at least 1")
    _refused(db, lambda: subscriptions.subscribe(
        acct.id, service=shop.voice, quantity=-2, start_date=date(2026, 3, 1)),
        "quantity", "at least 1")
    _refused(db, lambda: subscriptions.add_charge(
        acct.id, "Cable", "1.00", quantity="-1", charge_date=date(2026, 3, 1)),
        "quantity", "greater than zero")
    _refused(db, lambda: subscriptions.subscribe(
        acct.id, service=shop.voice, price_override=Money(1000, "EUR"),
        start_date=date(2026, 3, 1)), "price_override", "billed in USD")
    _refused(db, lambda: subscriptions.subscribe(
        acct.id, service=shop.fiber, start_date=date(2026, 4, 1), end_date=date(2026, 6, 1)),
        "start_date", "already subscribed")
    _refused(db, lambda: subscriptions.subscribe(
        acct.id, service=shop.voice, start_date=date(2026, 4, 1), end_date=date(2026, 3, 1)),
        "end_date", "after the start date")
    invoice = invoice_for(acct, "30.00")
    ledger.record_payment(acct.id, "10.00", method="cash")
    db.session.commit()
    _refused(db, lambda: invoices.void(invoice, "oops"), "invoice", "cannot be voided")
    _refused(db, lambda: ledger.record_payment(acct.id, "0.00", method="cash"),
             "amount", "greater than zero")
    _refused(db, lambda: ledger.record_payment(acct.id, "-5.00", method="cash"),
             "amount", "greater than zero")
    _refused(db, lambda: ledger.record_payment(acct.id, Money(500, "EUR"), method="cash"),
             "amount", "must be in USD")
    _refused(db, lambda: ledger.record_payment(acct.id, "5.001", method="cash"),
             "amount", "decimal places")


@pytest.mark.billing_settings(max_overpayment="10.00")
def test_payment_larger_than_allowed(app, db, make_account, invoice_for):
    acct = make_account()
    invoice_for(acct, "30.00")
    before = _counts(db)
    with pytest.raises(ValidationError) as err:
        ledger.record_payment(acct.id, "40.01", method="cash")
    db.session.rollback()
    assert "10.00 USD of credit allowed" in err.value.messages["amount"][0]
    assert _counts(db) == before
    ledger.record_payment(acct.id, "40.00", method="cash")
    db.session.commit()
    assert accounts.balance(acct.id) == usd("-10.00")


def test_ledger_is_append_only_in_practice(app, db, make_account, invoice_for):
    """Every money operation adds rows; none updates or deletes a ledger row."""
    acct = make_account()
    invoice = invoice_for(acct, "30.00")
    payment = ledger.record_payment(acct.id, "30.00", method="cash")
    db.session.commit()
    rows = [(t.id, t.kind, t.amount) for t in db.session.scalars(sa.select(Transaction))]
    ledger.reverse_payment(payment, "bounced")
    invoices.credit_note(invoice, "goodwill", "5.00")
    db.session.commit()
    after = [(t.id, t.kind, t.amount) for t in db.session.scalars(
        sa.select(Transaction).order_by(Transaction.id))]
    assert after[:len(rows)] == rows
    assert [k for _, k, _ in after[len(rows):]] == ["reversal", "credit_note"]
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 3
