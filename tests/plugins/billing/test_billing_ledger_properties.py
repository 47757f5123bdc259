"""Property test on the real database: whatever money operations happen, in whatever order,
an account's balance is the sum of its ledger and equals what is due minus its credit."""
from __future__ import annotations

from datetime import date, timedelta

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


def _apply(db, account_id: int, op: tuple, day: date) -> None:
    kind = op[0]
    docs = db.session.scalars(sa.select(Invoice).where(
        Invoice.account_id == account_id, Invoice.kind == "invoice")
        .order_by(Invoice.id)).all()
    pays = db.session.scalars(sa.select(Payment).where(Payment.account_id == account_id)
                              .order_by(Payment.id)).all()
    if kind == "invoice":
        draft = invoices.create_draft(account_id)
        invoices.add_line(draft, "Service", Money(op[1], "USD"))
        invoices.finalize(draft, day)
    elif kind == "pay":
        ledger.record_payment(account_id, Money(op[1], "USD"), method="cash", received_on=day)
    elif kind == "reverse" and pays:
        ledger.reverse_payment(pays[op[1] % len(pays)], "bounced")
    elif kind == "void" and docs:
        invoices.void(docs[op[1] % len(docs)], "mistake")
    elif kind == "credit" and docs:
        invoices.credit_note(docs[op[1] % len(docs)], "goodwill", Money(op[2], "USD"))
    elif kind == "refund" and pays:
        ledger.refund(pays[op[1] % len(pays)], Money(op[2], "USD"))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_balance_always_equals_the_sum_of_the_ledger(app, db, make_account, ops):
    account = make_account()
    db.session.commit()
    day = date(2026, 1, 1)
    for op in ops:
        day += timedelta(days=3)
        try:
            _apply(db, account.id, op, day)
            db.session.commit()
        except ValidationError:
            db.session.rollback()  # refused operations write nothing
        rows = db.session.scalars(sa.select(Transaction.amount)
                                  .where(Transaction.account_id == account.id)).all()
        assert accounts.balance(account.id).amount == sum(rows)
        due = ledger.amount_due(account.id, "USD")
        credit = ledger.available_credit(account.id, "USD")
        assert accounts.balance(account.id) == due - credit
        assert checks.problems() == {}
