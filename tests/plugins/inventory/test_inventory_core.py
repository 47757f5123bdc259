"""The inventory plugin's domain (issue 18): values, identifiers and lookup, bulk stock,
movements and their history, the swap-equipment event, low stock, CSV, the published API.

Expectations come from outside the code under test: canonical MAC spellings and IMSI length
from the standards (IEEE 802 / ITU-T E.212), the Luhn example 79927398713 from ISO/IEC 7812,
ICCIDs made valid or invalid by an independent Luhn written here, quantities worked by hand.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from inventory_helpers import BAD_ICCID, GOOD_ICCID, counts, setup_stock
from marshmallow import ValidationError

from backhaul.sdk import db


# -------------------------------------------------------------------------------- values
@pytest.mark.parametrize("raw", ["AA:BB:CC:0D:0E:0F", "aa-bb-cc-0d-0e-0f", "aabb.cc0d.0e0f",
                                 "AABBCC0D0E0F", "  aa:bb:cc:0d:0e:0f\n"])
def test_every_mac_spelling_has_one_canonical_form(raw):
    from backhaul.plugins.inventory.values import normalise_mac

    assert normalise_mac(raw) == "aa:bb:cc:0d:0e:0f"


@pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:fg", "aa:bb-cc:dd:ee:ff",
                                 "aabbccddeeff00", "", "aa:bb:cc:dd:ee:ff:00"])
def test_malformed_macs_are_refused(raw):
    from backhaul.plugins.inventory.values import normalise_mac

    with pytest.raises(ValueError, match="not a MAC"):
        normalise_mac(raw)


def test_imsi_iccid_and_luhn_against_outside_examples():
    from backhaul.plugins.inventory import values as V

    assert V.luhn_ok("79927398713") and not V.luhn_ok("79927398710")  # ISO/IEC 7812 example
    assert V.normalise_imsi("310260000000001") == "310260000000001"
    with pytest.raises(ValueError, match="15 digits; '31026000000000' has 14"):
        V.normalise_imsi("31026000000000")
    assert V.normalise_iccid(GOOD_ICCID) == GOOD_ICCID
    assert V.normalise_iccid(GOOD_ICCID + "F") == GOOD_ICCID   # reader padding
    with pytest.raises(ValueError, match="check digit"):
        V.normalise_iccid(BAD_ICCID)
    with pytest.raises(ValueError, match="19 or 20 digits"):
        V.normalise_iccid("8931026")


# ------------------------------------------------------------------- identifiers, lookup
def test_an_item_with_mac_serial_and_imsi_is_found_by_each(app):
    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.api import item_by_identifier

    s = setup_stock()
    [item] = stock.receive(s.router.id, s.bin1.id, [{"serial": "lte-0001",
                                                     "mac": "00-1A-2B-3C-4D-5E",
                                                     "imsi": "310260000000042"}])
    stock.receive(s.router.id, s.bin1.id, [{"serial": "LTE-0002", "mac": "00:1a:2b:3c:4d:5f"}])
    db.session.commit()
    for scanned in ("LTE-0001", "lte-0001", "001a2b3c4d5e", "00:1A:2B:3C:4D:5E",
                    "001a.2b3c.4d5e", "310260000000042"):
        assert [i.id for i in stock.lookup(scanned)] == [item.id], scanned
    assert item_by_identifier("mac", "00-1a-2b-3c-4d-5e").id == item.id
    assert item_by_identifier("serial", "lte-0001").identifiers == {
        "serial": "LTE-0001", "mac": "00:1a:2b:3c:4d:5e", "imsi": "310260000000042"}
    assert item_by_identifier("imsi", "310260000000042").id == item.id
    assert item_by_identifier("imsi", "310260000000043") is None
    assert stock.lookup("nothing-like-it") == []


def test_receiving_is_all_or_nothing_with_every_row_flagged(app):
    from backhaul.plugins.inventory import stock

    s = setup_stock()
    stock.receive(s.radio.id, s.bin1.id, [{"serial": "AB100"}])
    db.session.commit()
    before = counts()
    with pytest.raises(ValidationError) as refused:
        stock.receive(s.radio.id, s.bin1.id, [{"serial": "AB101"}, {"serial": "ab100"},
                                              {"serial": "AB102"}, {"serial": "ab102"},
                                              {"serial": "bad serial!"}, {}])
    messages = refused.value.messages
    assert set(messages) == {"items.1.serial", "items.3.serial", "items.4.serial",
                             "items.5.serial"}
    assert "already used by item #1" in messages["items.1.serial"][0]
    assert "scanned twice in this batch (item 3)" in messages["items.3.serial"][0]
    assert "required" in messages["items.5.serial"][0]
    db.session.rollback()
    assert counts() == before


# ------------------------------------------------------------------------- bulk and moves
def test_bulk_cable_splits_and_never_moves_more_than_held(app):
    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.models import Item

    s = setup_stock()
    [reel] = stock.receive(s.cable.id, s.bin1.id, quantity="305")
    db.session.commit()
    part = stock.move(reel, s.van.id, "100.5")
    db.session.commit()
    assert (reel.quantity, reel.location_id) == (Decimal("204.5"), s.bin1.id)
    assert (part.quantity, part.location_id) == (Decimal("100.5"), s.van.id)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        stock.move(part, s.bin2.id, "100.6")
    assert refused.value.messages == {"quantity": [
        "only 100.5 m here: you cannot move 100.6"]}
    db.session.rollback()
    assert counts() == before
    assert db.session.get(Item, part.id).quantity == Decimal("100.5")
    # all of it moves without a split; receiving more adds to what is there
    whole = stock.move(db.session.get(Item, part.id), s.bin2.id, "100.5")
    assert whole.id == part.id
    stock.receive(s.cable.id, s.bin2.id, quantity="50")
    assert db.session.get(Item, part.id).quantity == Decimal("150.5")
    assert [m.action for m in stock.history(part.id)] == ["split", "move", "move", "receive"]
    assert [m.action for m in stock.history(reel.id)] == ["receive", "split"]


def test_an_item_life_from_receive_to_retire(app):
    from backhaul.plugins.inventory import stock
    from backhaul.sdk.accounts import create_account

    s = setup_stock()
    account = create_account(name="Life Tenant")
    [radio] = stock.receive(s.radio.id, s.bin1.id, [{"serial": "R1"}])
    stock.move(radio, s.van.id)
    stock.assign(radio, "account", account.id)
    stock.assign(radio, "account", account.id, install=True)
    with pytest.raises(ValidationError, match="installed: return it to a location first"):
        stock.move(radio, s.bin1.id)
    stock.return_item(radio, s.bin2.id, condition="used")
    stock.retire(radio, rma=True)
    stock.return_item(radio, s.bin1.id, condition="refurbished")
    stock.retire(radio, note="end of life")
    db.session.commit()
    life = [(m.action, m.status, m.from_location_id, m.to_location_id, m.to_holder_type)
            for m in stock.history(radio.id)]
    assert life == [("receive", "in_stock", None, s.bin1.id, None),
                    ("move", "in_stock", s.bin1.id, s.van.id, None),
                    ("assign", "assigned", s.van.id, None, "account"),
                    ("install", "installed", None, None, "account"),
                    ("return", "in_stock", None, s.bin2.id, None),
                    ("rma", "rma", s.bin2.id, None, None),
                    ("return", "in_stock", None, s.bin1.id, None),
                    ("retire", "retired", s.bin1.id, None, None)]
    assert all(m.actor for m in stock.history(radio.id))
    with pytest.raises(ValidationError, match="already retired"):
        stock.retire(radio)


# ------------------------------------------------------------------------ swap equipment
def test_swap_equipment_runs_once_and_both_histories_are_right(app):
    from backhaul.core.accounts.scheduling import run_event
    from backhaul.plugins.inventory import stock
    from backhaul.sdk.accounts import create_account, schedule_event

    s = setup_stock()
    account = create_account(name="Swap Tenant")
    old, new = stock.receive(s.radio.id, s.bin1.id, [{"serial": "OLD1"}, {"serial": "NEW1"}])
    stock.assign(old, "account", account.id, install=True)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:  # the account must hold the old item
        schedule_event(account, "inventory.swap_equipment", date.today(),
                       {"remove_item_id": new.id, "install_item_id": old.id,
                        "return_location_id": s.bin2.id})
    assert "remove_item_id" in refused.value.messages["params"]
    db.session.rollback()
    event = schedule_event(account, "inventory.swap_equipment", date.today(),
                           {"remove_item_id": old.id, "install_item_id": new.id,
                            "return_location_id": s.bin2.id, "return_condition": "used"})
    db.session.commit()
    assert run_event(event.id) == "done"
    assert run_event(event.id) == "skipped"
    db.session.expire_all()
    assert (old.status, old.location_id, old.condition, old.holder_type) == (
        "in_stock", s.bin2.id, "used", None)
    assert (new.status, new.holder_type, new.holder_id) == ("installed", "account", account.id)
    assert [(m.action, m.reference) for m in stock.history(old.id)] == [
        ("receive", ""), ("install", ""), ("return", f"event:{event.id}")]
    assert [(m.action, m.reference) for m in stock.history(new.id)] == [
        ("receive", ""), ("install", f"event:{event.id}")]
    # executing it again (a worker that died after the commit) changes nothing
    from backhaul.plugins.inventory.actions import execute_swap

    execute_swap(event, {"remove_item_id": old.id, "install_item_id": new.id,
                         "return_location_id": s.bin2.id})
    assert len(stock.history(old.id)) == 3 and len(stock.history(new.id)) == 2
    assert [i.id for i in stock.held_by("account", account.id)] == [new.id]


# ------------------------------------------------------------------------------ low stock
def test_low_stock_notifies_once_through_notifications(make_app):
    from notif_helpers import smtp_settings

    from backhaul.plugins.inventory import alerts, stock
    from backhaul.plugins.notifications.channel_store import save_channel
    from backhaul.plugins.notifications.models import Message
    from backhaul.sdk.accounts import add_contact, create_account

    app = make_app(plugins=["notifications", "inventory"], plugin_settings={
        "inventory": {"alert_account": "HOUSE-1"}})
    with app.app_context():
        house = create_account(name="Our ISP (stores)", number="HOUSE-1")
        add_contact(house, {"name": "Stores", "email": "stores@isp.example.net",
                            "is_primary": True})
        save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                    "settings": smtp_settings(2)})
        s = setup_stock()
        radios = stock.receive(s.radio.id, s.bin1.id, [{"serial": f"LS{n}"} for n in range(4)])
        alerts.set_threshold(s.radio.id, s.wh.id, 3)   # the warehouse, bins included
        db.session.commit()
        sent = lambda: db.session.scalars(sa.select(Message).where(  # noqa: E731
            Message.event_key == "inventory.low_stock")).all()
        stock.move(radios[0], s.van.id)          # 3 left: not under the minimum
        assert sent() == []
        stock.move(radios[1], s.van.id)          # 2 left: alert
        stock.move(radios[2], s.van.id)          # 1 left: still the same alert
        db.session.commit()
        [message] = sent()
        assert message.recipient == "stores@isp.example.net"
        assert message.subject == ("Low stock: Acme Networks AirBeam 5 in Main warehouse")
        assert "1 left" not in message.body_text and "2 left" in message.body_text
        stock.receive(s.radio.id, s.bin2.id, [{"serial": "LS9"}, {"serial": "LS8"}])  # 3: re-arm
        stock.move(db.session.get(type(radios[3]), radios[3].id), s.van.id)  # 2: alert again
        db.session.commit()
        assert len(sent()) == 2


# ------------------------------------------------------------------------------------ CSV
def test_csv_import_reports_every_bad_row_and_writes_nothing(app):
    from backhaul.plugins.inventory import csvio

    s = setup_stock()
    db.session.commit()
    before = counts()
    text = ("model,location,serial,mac,imsi,quantity\n"
            "Acme Networks LTE Router 5,WH1-A-01,C1,00:00:00:00:00:01,,\n"       # fine
            "Acme Networks LTE Router 5,WH1-A-01,C2,00:00:00:00:00:0g,,\n"       # bad MAC
            "Acme Networks LTE Router 5,NOWHERE,C3,00:00:00:00:00:03,,\n"        # location
            "Acme Networks LTE Router 5,WH1-A-01,C4,00:00:00:00:00:04,31026000000000,\n"
            "Acme Networks LTE Router 5,WH1-A-01,c1,00:00:00:00:00:05,,\n"       # dup serial
            "Acme Networks Drop cable,WH1-A-01,,,,-3\n")                         # quantity
    with pytest.raises(ValidationError) as refused:
        csvio.import_items(text)
    problems = refused.value.messages["csv"]
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5", "line 6",
                                                   "line 7"]
    assert "not a MAC" in problems[0] and "IMSI has 15 digits" in problems[2]
    assert "c1 is scanned twice in this batch (line 2)".upper() in problems[3].upper()
    db.session.rollback()
    assert counts() == before
    good = ("model,location,serial,mac\n"
            "Acme Networks LTE Router 5,WH1-A-01,C1,00:00:00:00:00:01\n"
            f"{s.cable.id},VAN-1,,\n")
    with pytest.raises(ValidationError):  # the cable row lacks its quantity
        csvio.import_items(good)
    db.session.rollback()
    items = csvio.import_items(good.replace(",VAN-1,,", ",VAN-1,,,12").replace(
        "serial,mac\n", "serial,mac,quantity\n"))
    db.session.commit()
    assert len(items) == 2
    exported = csvio.export_items().splitlines()
    assert exported[0] == "id,model,location,condition,quantity,status,holder,serial,mac,imsi,colour"
    assert exported[1] == "1,Acme Networks LTE Router 5,WH1-A-01,new,1,in_stock,,C1,00:00:00:00:00:01,,"
    assert exported[2] == "2,Acme Networks Drop cable,VAN-1,new,12,in_stock,,,,,"


# ------------------------------------------------------------------------ published API
def test_items_for_polling(app):
    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.api import items_for_polling
    from backhaul.sdk.accounts import create_account

    s = setup_stock()
    account = create_account(name="Poll Tenant")
    a, b, c = stock.receive(s.radio.id, s.bin1.id, [{"serial": "P1"}, {"serial": "P2"},
                                                    {"serial": "P3"}],
                            management_address="10.0.0.9")
    stock.update_item(b, management_address="10.0.0.10")
    stock.assign(a, "account", account.id, install=True)
    stock.assign(b, "account", account.id)
    db.session.commit()
    polled = items_for_polling()
    assert [(p.id, p.management_address, p.model, p.category, p.holder) for p in polled] == [
        (a.id, "10.0.0.9", "AirBeam 5", "radio", ("account", account.id)),
        (b.id, "10.0.0.10", "AirBeam 5", "radio", ("account", account.id))]
    assert c.id not in [p.id for p in polled]  # in stock: not polled


def test_parallel_moves_never_take_more_cable_than_the_reel_holds(app):
    """PostgreSQL: 8 people each move 10 m of a 50 m reel at once: 5 succeed, 3 are told
    there is not enough, and the metres add up to 50 (the row is locked while checked)."""
    import threading

    from backhaul.plugins.inventory import stock
    from backhaul.plugins.inventory.models import Item

    if db.engine.dialect.name != "postgresql":
        pytest.skip("the race is meaningful on PostgreSQL")
    s = setup_stock()
    [reel] = stock.receive(s.cable.id, s.bin1.id, quantity="50")
    db.session.commit()
    reel_id, van_id = reel.id, s.van.id
    results, barrier = [], threading.Barrier(8)

    def take() -> None:
        with app.app_context():
            barrier.wait()
            try:
                stock.move(db.session.get(Item, reel_id), van_id, "10")
                db.session.commit()
                results.append("ok")
            except ValidationError as exc:
                db.session.rollback()
                results.append(str(exc.messages))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5, results
    assert all("you cannot move 10" in r or "already there" in r for r in results if r != "ok")
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Item).where(Item.model_id == s.cable.id)).all()
    assert sum(r.quantity for r in rows if r.location_id == van_id) == Decimal(50)
    assert sum(r.quantity for r in rows if r.location_id == s.bin1.id) == Decimal(0)


def test_devices_as_holders_come_from_the_network_plugin(app, make_app):
    from backhaul.plugins.inventory import stock
    from backhaul.plugins.network.models import Device

    s = setup_stock()
    device = Device(name="tower-1", backend="none", secrets="")
    db.session.add(device)
    [sfp] = stock.receive(s.radio.id, s.bin1.id, [{"serial": "SFP-1"}])
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        stock.assign(sfp, "device", device.id + 1, install=True)
    assert refused.value.messages == {"holder_id": [f"there is no device {device.id + 1}"]}
    stock.assign(sfp, "device", device.id, install=True)
    db.session.commit()
    assert [i.id for i in stock.held_by("device", device.id)] == [sfp.id]
    alone = make_app(plugins=["inventory"])
    with alone.app_context():  # without the network plugin, no devices to hold equipment
        from backhaul.plugins.inventory.stock import check_holder

        with pytest.raises(ValidationError, match="need the network plugin"):
            check_holder("device", 1)
