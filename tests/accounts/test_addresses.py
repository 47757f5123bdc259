"""Pre-qualified addresses and buildings: normalisation, duplicates, units, search."""
import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.accounts.addresses import (
    address_key,
    create_address,
    create_building,
    normalise_unit,
    search_addresses,
    update_address,
)
from backhaul.core.accounts.buildings import floor_units, generate_units, parse_unit_pattern
from backhaul.core.db import db
from backhaul.sdk.accounts import Address

MAIN = {"street": "12 North Main Street", "unit": "Apt. 4b", "city": "Springfield",
        "region": "IL", "postal_code": "62701", "country": "us", "serviceable": "yes",
        "technology": "fiber", "max_down_mbps": "1000", "max_up_mbps": "500"}


def test_normalisation_catches_spelling_variants():
    assert normalise_unit("Apt. 4b") == normalise_unit("#4B") == normalise_unit("unit 4-b") == "4B"
    assert address_key("12 North Main Street", "Apt 4b", "Springfield", "IL", "62701", "US") == \
        address_key("12 N. Main St", "#4B", "SPRINGFIELD", "il", "62701", "US")


def test_create_address_and_duplicate_is_a_field_error(app):
    address = create_address(MAIN)
    db.session.commit()
    assert (address.unit, address.country, address.serviceable, address.max_down_mbps) == (
        "Apt. 4b", "US", True, 1000)
    with pytest.raises(ValidationError) as err:
        create_address({**MAIN, "street": "12 N Main St", "unit": "#4B"})
    assert "already exists" in err.value.messages["street"][0]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Address.id))) == 1
    other = create_address({**MAIN, "unit": "5"})
    with pytest.raises(ValidationError):
        update_address(other, {"unit": "4B"})


def test_invalid_address_fields(app):
    with pytest.raises(ValidationError) as err:
        create_address({"street": "", "city": "X", "country": "USA", "latitude": "95",
                        "technology": "carrier pigeon", "max_down_mbps": "-1"})
    assert set(err.value.messages) == {"street", "country", "latitude", "technology",
                                       "max_down_mbps"}


def test_unit_patterns():
    assert parse_unit_pattern("101-124")[:2] == ["101", "102"]
    assert len(parse_unit_pattern("101-124, 201-224")) == 48
    assert parse_unit_pattern("PH1-PH3, A-C, 5B") == ["PH1", "PH2", "PH3", "A", "B", "C", "5B"]
    assert parse_unit_pattern("01-03") == ["01", "02", "03"]
    assert floor_units("1-3", 2) == ["101", "102", "201", "202", "301", "302"]
    assert floor_units("2,4", 1, "{floor}-{unit}") == ["2-1", "4-1"]
    for bad in ("124-101", "1-99999", "!!"):
        with pytest.raises(ValueError):
            parse_unit_pattern(bad)


def test_generate_units_is_idempotent(app):
    building = create_building({"name": "Maple Court", "street": "12 Maple St",
                                "city": "Springfield", "country": "US"})
    created, skipped = generate_units(building, {"pattern": "101-124", "serviceable": True,
                                                 "technology": "fiber"})
    assert (len(created), skipped) == (24, [])
    created, skipped = generate_units(building, {"floors": "1-2", "units_per_floor": 24})
    assert len(created) == 24 and len(skipped) == 24  # floor 1 existed, floor 2 is new
    db.session.commit()
    assert len(building.addresses) == 48
    assert all(a.street == "12 Maple St" for a in building.addresses)
    with pytest.raises(ValidationError) as err:
        generate_units(building, {"pattern": "124-101"})
    assert "backwards" in err.value.messages["pattern"][0]
    with pytest.raises(ValidationError) as err:
        generate_units(building, {})
    assert "pattern" in err.value.messages


def test_duplicate_building(app):
    create_building({"name": "Maple Court", "street": "12 Maple Street", "city": "Springfield",
                     "country": "US"})
    with pytest.raises(ValidationError) as err:
        create_building({"name": "Other", "street": "12 maple st", "city": "springfield",
                         "country": "us"})
    assert "Maple Court" in err.value.messages["street"][0]


def test_search_and_filters(app, building):
    from backhaul.sdk.accounts import create_account

    units = {a.unit: a for a in building.addresses}
    create_account(name="Tenant", address_id=units["101"].id)
    create_address({**MAIN, "serviceable": False})
    db.session.commit()
    found = lambda **kw: [a.unit for a in db.session.scalars(search_addresses(**kw))]  # noqa: E731
    assert found(building_id=building.id) == ["101", "102", "103", "104"]
    assert found(building_id=building.id, occupied=True) == ["101"]
    assert found(building_id=building.id, occupied=False) == ["102", "103", "104"]
    assert found(serviceable=False) == ["Apt. 4b"]
    assert found(text="maple 103") == ["103"]
    assert found(text="north main") == ["Apt. 4b"]
