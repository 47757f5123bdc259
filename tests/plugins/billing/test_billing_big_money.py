"""Amounts beyond 32 bits and rolled-back mutations (issue 11, finding 7)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backhaul.plugins.billing.models import Payment

PAY = """mutation($i: BillingPaymentInput!) { billingRecordPayment(input: $i) {
  ok errors { field messages } payment { amount { amount currency } } } }"""


def post(client, token, query, variables=None):
    return client.post("/graphql", json={"query": query, "variables": variables or {}},
                       headers={"Authorization": f"Bearer {token}"}).get_json()


@pytest.fixture
def token(app, staff_user, api_token):
    return api_token(staff_user(["billing.payment.record", "billing.payment.reverse",
                                 "billing.invoice.view"]), "full")


@pytest.mark.billing_settings(currency="IDR", max_overpayment="")
def test_a_payment_above_32_bits_is_recorded_and_the_balance_readable(
        app, db, client, token, make_account):
    acct = make_account("Big Spender")
    db.session.commit()
    body = post(client, token, PAY, {"i": {"accountId": str(acct.id), "amount": "30000000.00",
                                          "method": "bank_transfer"}})
    assert "errors" not in body, body
    answer = body["data"]["billingRecordPayment"]
    assert answer["ok"] is True
    assert answer["payment"]["amount"] == {"amount": 3_000_000_000, "currency": "IDR"}
    balance = post(client, token, """query($id: ID!) { billingAccount(accountId: $id) {
        balance { amount } } }""", {"id": str(acct.id)})
    assert balance["data"]["billingAccount"]["balance"]["amount"] == -3_000_000_000
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_no_ok_true_in_a_rolled_back_mutation(app, db, make_account):
    """The request's transaction rule: a mutation whose response has errors is rolled back,
    and no payload in it may still say ok: true."""
    from graphql import OperationType

    from backhaul.core.graphql.view import _finish_transaction
    from backhaul.plugins.billing import ledger

    acct = make_account("Half A Request")
    db.session.commit()
    ledger.record_payment(acct.id, "10.00", method="cash")  # what the first field did
    response = {"data": {"good": {"ok": True, "errors": []}, "bad": None},
                "errors": [{"message": "the second field failed"}]}
    _finish_transaction(OperationType.MUTATION, response)
    assert response["data"]["good"]["ok"] is False
    assert response["data"]["good"]["errors"][0]["field"] == "_schema"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_payment_key_never_answers_for_another_account_or_other_facts(
        app, db, client, token, make_account):
    """Issue 11 #6: reusing a key on another account answered ok: true with the other
    account's payment and recorded nothing."""
    ann, bob = make_account("Ann"), make_account("Bob")
    db.session.commit()
    first = {"accountId": str(ann.id), "amount": "25.00", "method": "cash", "key": "BANK-1"}
    assert post(client, token, PAY, {"i": first})["data"]["billingRecordPayment"]["ok"]
    again = post(client, token, PAY, {"i": first})["data"]["billingRecordPayment"]
    assert again["ok"] is True  # a true replay answers the first payment
    for change, field in (({"accountId": str(bob.id)}, "key"), ({"amount": "26.00"}, "amount"),
                          ({"method": "cheque"}, "method")):
        answer = post(client, token, PAY, {"i": {**first, **change}})["data"][
            "billingRecordPayment"]
        assert answer["ok"] is False and answer["errors"][0]["field"] == field, answer
        assert answer["payment"] is None
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
