"""billing.api: the published read views and the gateway entry point, as a dependent uses them."""
from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.plugins.billing import api, catalogue
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.models import Payment, PaymentAttempt
from backhaul.sdk import Money, PaymentStatus


def test_services_are_plain_frozen_views(app, db, shop):
    info = api.get_service(shop.fiber.id)
    assert info == api.ServiceInfo(shop.fiber.id, "Fiber 100", "data",
                                   {"download_mbps": 100, "upload_mbps": 20,
                                    "burst_download_mbps": None, "burst_upload_mbps": None,
                                    "allowance_gb": None, "fair_usage_kbps": None}, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "x"
    info.params["download_mbps"] = 1  # a copy: the catalogue is untouched
    assert shop.fiber.params["download_mbps"] == 100
    assert api.get_service(999999) is None
    assert [s.name for s in api.list_services(type_key="data")] == ["Fiber 100"]
    shop.voice.active = False
    db.session.commit()
    assert "Home phone" not in {s.name for s in api.list_services()}
    assert "Home phone" in {s.name for s in api.list_services(active_only=False)}


def test_service_type_parameters_describe_the_schema(app):
    params = {p["name"]: p for p in api.service_type_parameters("data")}
    assert params["download_mbps"]["type"] == "integer"
    assert params["download_mbps"]["required"] is True
    assert params["download_mbps"]["min"] == 1
    assert params["allowance_gb"]["required"] is False
    assert all(p["label"] for p in params.values())
    assert api.service_type_parameters("recurring") == []
    with pytest.raises(ValidationError) as err:
        api.service_type_parameters("nope")
    assert "type" in err.value.messages


def test_subscriptions_active_on_a_day_with_packages_expanded(app, db, shop, make_account):
    a, b = make_account("A"), make_account("B")
    bundle = catalogue.create_package("Home bundle", [(shop.fiber, 1), (shop.voice, 2)],
                                      currency="USD", price="60.00")
    line = subs.subscribe(a.id, package=bundle, start_date=date(2026, 3, 1))
    subs.subscribe(b.id, service=shop.fiber, start_date=date(2026, 3, 1),
                   end_date=date(2026, 4, 1))
    subs.subscribe(b.id, service=shop.maintenance, start_date=date(2026, 3, 1))
    db.session.commit()

    data = api.subscriptions(type_keys=["data"], on=date(2026, 3, 15))
    assert [(s.account_id, s.service_name, s.params["download_mbps"]) for s in data] == [
        (a.id, "Fiber 100", 100), (b.id, "Fiber 100", 100)]
    # end_date is exclusive: B's fiber is gone on 1 April
    assert [s.account_id for s in api.subscriptions(type_keys=["data"], on=date(2026, 4, 1))
            ] == [a.id]
    assert api.subscriptions(on=date(2026, 2, 28)) == []
    mine = api.subscriptions(account_ids=[a.id], on=date(2026, 3, 1))
    assert {(s.id, s.service_id, s.quantity) for s in mine} == {
        (line.id, shop.fiber.id, 1), (line.id, shop.voice.id, 2)}
    assert api.get_subscription(line.id).id == line.id
    assert api.get_subscription(424242) is None


@pytest.fixture
def owing(app, db, shop, make_account):
    from backhaul.plugins.billing import run

    acct = make_account()
    subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    return acct


def test_a_payment_made_at_the_processor_is_recorded_once(app, db, owing):
    outcome = api.record_payment_outcome("simpay", "pi_1", "processed", reference="ch_77",
                                         account_id=owing.id, amount=Money(5500, "USD"))
    assert outcome.recorded and outcome.status == "processed"
    again = api.record_payment_outcome("simpay", "pi_1", PaymentStatus.PROCESSED,
                                       reference="ch_77", account_id=owing.id,
                                       amount=Money(5500, "USD"))
    assert (again.recorded, again.payment_id) == (False, outcome.payment_id)
    payment = db.session.get(Payment, outcome.payment_id)
    assert (payment.account_id, payment.amount, payment.method) == (owing.id, 5500, "card")
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_a_contradicting_replay_is_a_field_error(app, db, owing, make_account):
    other = make_account("Other")
    db.session.commit()
    api.record_payment_outcome("simpay", "pi_2", "processed", account_id=owing.id,
                               amount=Money(1000, "USD"))
    for kwargs, field in (({"account_id": other.id, "amount": Money(1000, "USD")}, "key"),
                          ({"account_id": owing.id, "amount": Money(999, "USD")}, "amount"),
                          ({"account_id": owing.id, "amount": Money(1000, "USD"),
                            "method": "bank_transfer"}, "method")):
        with pytest.raises(ValidationError) as err:
            api.record_payment_outcome("simpay", "pi_2", "processed", **kwargs)
        assert field in err.value.messages
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_a_failure_billing_never_asked_for_records_nothing(app, db, owing):
    outcome = api.record_payment_outcome("simpay", "pi_3", "error", message="declined")
    assert (outcome.recorded, outcome.payment_id) == (False, None)
    with pytest.raises(ValidationError) as err:
        api.record_payment_outcome("simpay", "pi_4", "processed")
    assert "account_id" in err.value.messages


def test_an_autopay_attempt_is_settled_by_its_key(app, db, owing):
    from backhaul.plugins.billing.models import Invoice

    invoice = db.session.scalar(sa.select(Invoice).where(Invoice.account_id == owing.id))
    attempt = PaymentAttempt(invoice_id=invoice.id, account_id=owing.id, attempt_no=1,
                             idempotency_key=f"autopay:{invoice.id}:1", gateway="simpay",
                             method_ref="pm_1", amount=5500, currency="USD",
                             status="pending", reference="ch_9")
    db.session.add(attempt)
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        api.record_payment_outcome("othergw", attempt.idempotency_key, "processed")
    assert "gateway" in err.value.messages
    db.session.rollback()
    first = api.record_payment_outcome("simpay", attempt.idempotency_key, "processed",
                                       reference="ch_9")
    assert first.recorded and first.attempt_id == attempt.id and first.payment_id
    # the same answer found by the processor's reference instead of the key: nothing new
    second = api.record_payment_outcome("simpay", "evt_unknown", "processed",
                                        reference="ch_9")
    assert (second.recorded, second.payment_id) == (False, first.payment_id)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_contributed_line_types_are_published():
    from backhaul.plugins.billing import hookspecs

    assert api.ContributedLine is hookspecs.ContributedLine
    assert api.Period(date(2026, 1, 1), date(2026, 2, 1)).days == 31
    assert "billing.api import" in hookspecs.__doc__
