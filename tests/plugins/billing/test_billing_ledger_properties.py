"""Property test on the real database: whatever money operations happen, in whatever order,
an account's balance is the sum of its ledger and equals what is due minus its credit."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from backhaul.plugins.billing import accounts, checks, invoices, ledger
from backhaul.plugins.billing.models import Invoice, Payment, Transaction
from backhaul.sdk import Money

cents = st.integers(min_value=1, max_value=50_000)
operations = st.lists(st.one_of(
    st.tuples(st.just("invoice"), cents),
    st.tuples(st.just("pay"), cents),
    st.tuples(st.just("reverse"), st.integers(0, 20)),
    st.tuples(st.just("void"), st.integers(0, 20)),
    st.tuples(st.just("credit"), st.integers(0, 20), cents),
    st.tuples(st.just("refund"), st.integers(0, 20), cents),
), min_size=1, max_size=14)


def _apply(db, account_id: int, op: tuple, day: date, currency: str = "USD") -> None:
    kind = op[0]
    docs = db.session.scalars(sa.select(Invoice).where(
        Invoice.account_id == account_id, Invoice.kind == "invoice")
        .order_by(Invoice.id)).all()
    pays = db.session.scalars(sa.select(Payment).where(Payment.account_id == account_id)
                              .order_by(Payment.id)).all()
    if kind == "invoice":
        draft = invoices.create_draft(account_id)
        invoices.add_line(draft, "Service", Money(op[1], currency))
        invoices.finalize(draft, day)
    elif kind == "pay":
        ledger.record_payment(account_id, Money(op[1], currency), method="cash", received_on=day)
    elif kind == "reverse" and pays:
        ledger.reverse_payment(pays[op[1] % len(pays)], "bounced")
    elif kind == "void" and docs:
        invoices.void(docs[op[1] % len(docs)], "mistake")
    elif kind == "credit" and docs:
        invoices.credit_note(docs[op[1] % len(docs)], "goodwill", Money(op[2], currency))
    elif kind == "refund" and pays:
        ledger.refund(pays[op[1] % len(pays)], Money(op[2], currency))


def _rows(db) -> list[int]:
    return [db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Transaction, Payment, Invoice)]


def _check_ledger(db, account_id: int, currency: str) -> None:
    rows = db.session.scalars(sa.select(Transaction.amount)
                              .where(Transaction.account_id == account_id)).all()
    assert accounts.balance(account_id, currency).amount == sum(rows)
    due = ledger.amount_due(account_id, currency)
    credit = ledger.available_credit(account_id, currency)
    assert accounts.balance(account_id, currency) == due - credit
    assert checks.problems() == {}


def _run_ops(db, account, ops, currency: str) -> None:
    day = date.today() - timedelta(days=3 * len(ops) + 3)
    for op in ops:
        day += timedelta(days=3)
        before = _rows(db)
        try:
            _apply(db, account.id, op, day, currency)
            db.session.commit()
        except ValidationError:
            # a refused operation wrote nothing, not even a flushed row awaiting rollback
            assert _rows(db) == before, f"{op} was refused but left rows behind"
            db.session.rollback()
        _check_ledger(db, account.id, currency)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_balance_always_equals_the_sum_of_the_ledger(app, db, make_account, ops):
    account = make_account()
    db.session.commit()
    _run_ops(db, account, ops, "USD")


huge = st.integers(min_value=10 ** 15 - 10 ** 6, max_value=10 ** 15)
huge_operations = st.lists(st.one_of(
    st.tuples(st.just("invoice"), huge), st.tuples(st.just("pay"), huge),
    st.tuples(st.just("reverse"), st.integers(0, 20)),
    st.tuples(st.just("credit"), st.integers(0, 20), huge),
    st.tuples(st.just("refund"), st.integers(0, 20), huge),
), min_size=1, max_size=10)


@pytest.mark.billing_settings(currency="JPY", max_overpayment="")
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=huge_operations)
def test_the_ledger_holds_near_the_input_bound_in_a_zero_decimal_currency(
        app, db, make_account, ops):
    """Amounts at the largest accepted input (10^15 yen), summed over many operations,
    stay exact: 64-bit columns, integer arithmetic, no float anywhere."""
    account = make_account()
    db.session.commit()
    _run_ops(db, account, ops, "JPY")
