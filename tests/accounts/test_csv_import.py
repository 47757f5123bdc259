"""CSV import of pre-qualified addresses: all or nothing, every bad row reported."""
import pytest
import sqlalchemy as sa

from backhaul.core.accounts.csv_import import CsvImportError, import_addresses
from backhaul.core.db import db
from backhaul.sdk.accounts import Address, Building

HEADER = "building,street,unit,city,state,zip,country,serviceable,technology,down_mbps,up_mbps\n"


def building_csv(bad_rows: dict[int, str] | None = None) -> str:
    """A 200-unit building (floors 1-8, units 01-25); ``bad_rows`` replaces rows by index."""
    rows = []
    for floor in range(1, 9):
        for unit in range(1, 26):
            rows.append(f"Harbour View,400 Harbour Blvd,{floor}{unit:02d},Portland,OR,97201,US,"
                        f"yes,fiber,1000,1000")
    for index, row in (bad_rows or {}).items():
        rows[index] = row
    return HEADER + "\n".join(rows) + "\n"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_200_units_with_3_bad_rows_then_fixed(app):
    bad = {
        9: "Harbour View,400 Harbour Blvd,110,Portland,OR,97201,USA,yes,fiber,1000,1000",
        99: "Harbour View,400 Harbour Blvd,,Portland,OR,97201,US,maybe,fiber,1000,1000",
        150: "Harbour View,400 Harbour Blvd,101,Portland,OR,97201,US,yes,fiber,1000,1000",
    }
    with pytest.raises(CsvImportError) as err:
        import_addresses(building_csv(bad).encode())
    db.session.rollback()
    reported = {(e.line, e.field) for e in err.value.errors}
    assert {line for line, _ in reported} == {11, 101, 152}  # header is line 1
    assert (11, "country") in reported and (101, "serviceable") in reported
    assert (152, "street") in reported  # same unit as line 2
    assert "nothing was imported" in str(err.value)
    assert count(Address) == 0 and count(Building) == 0

    result = import_addresses(building_csv().encode())
    db.session.commit()
    assert len(result.created) == 200 and len(result.buildings_created) == 1
    assert count(Address) == 200
    building = db.session.scalar(sa.select(Building))
    assert building.name == "Harbour View" and len(building.addresses) == 200

    with pytest.raises(CsvImportError) as err:  # importing again: 200 duplicates, none added
        import_addresses(building_csv().encode())
    db.session.rollback()
    assert len(err.value.errors) == 200 and "already exists" in err.value.errors[0].message
    assert count(Address) == 200


@pytest.mark.parametrize("data,expected", [
    ("street,unit,city\n1 A St,1,X\n".encode("utf-16"), "binary"),
    ("street,unit,city\n1 Café St,1,Zürich\n".encode("latin-1"), "not UTF-8 encoded (byte 0xe9 on line 2)"),
    (b"", "empty"),
    (b"street,unit,city\n", "no rows"),
    (b'street,unit,city\n"1 A St,1,X\n', "Malformed CSV"),
    (b"street,flat,town\n1 A St,1,X\n", "Unknown column(s) 'flat', 'town'"),
    (b"unit,city\n1,X\n", "Missing required column(s) street"),
])
def test_malformed_or_wrongly_encoded_files(app, data, expected):
    with pytest.raises(CsvImportError) as err:
        import_addresses(data)
    assert expected in " ".join(e.message for e in err.value.errors)
    assert count(Address) == 0


def test_wrong_field_count_and_utf8_bom_and_semicolons(app):
    with pytest.raises(CsvImportError) as err:
        import_addresses(b"street,unit,city\n1 A St,1,X,extra\n2 A St,2,X\n1 B St\n")
    assert [(e.line, e.field) for e in err.value.errors] == [(2, "row"), (4, "row")]
    result = import_addresses("\ufeffstreet;unit;city;country\n1 Café St;1;Zürich;CH\n".encode())
    assert result.created[0].city == "Zürich" and result.created[0].country == "CH"


def test_building_name_clash_is_a_row_error(app):
    import_addresses(b"building,street,unit,city\nMaple,1 Maple St,1,X\n")
    db.session.commit()
    with pytest.raises(CsvImportError) as err:
        import_addresses(b"building,street,unit,city\nOak,1 Maple Street,2,X\n")
    assert err.value.errors[0].field == "building" and "Maple" in err.value.errors[0].message
    result = import_addresses(b"building,street,unit,city\nmaple,1 Maple St,2,X\n")
    assert result.created[0].building.name == "Maple" and not result.buildings_created


def test_existing_building_with_a_non_ascii_capital_is_matched(app):
    """Issue 10 defect 7: SQLite's lower() folds ASCII only, so "RÉSIDENCE LES ÉRABLES" in
    a file did not find "Résidence Les Érables" (and then clashed on its street address)."""
    first = (HEADER + "Résidence Les Érables,12 Rue des Érables,101,Montréal,QC,H2X 1Y4,CA,"
                      "yes,fiber,1000,1000\n")
    import_addresses(first.encode())
    db.session.commit()
    second = (HEADER + "RÉSIDENCE  LES ÉRABLES,12 Rue des Érables,102,Montréal,QC,H2X 1Y4,CA,"
                       "yes,fiber,1000,1000\n")
    result = import_addresses(second.encode())
    db.session.commit()
    assert result.buildings_created == []
    assert count(Building) == 1 and len(db.session.scalar(sa.select(Building)).addresses) == 2


def test_unit_formats_are_not_python_format_strings_and_ranges_are_bounded_first(app):
    """Issue 11 #10: ``unitFormat`` reached str.format ({floor.__class__.__mro__},
    {unit:>1000000}) and a 10-million-unit range was expanded before the limit."""
    import time

    from marshmallow import ValidationError

    from backhaul.core.accounts.buildings import floor_units, unit_labels
    from backhaul.core.accounts.schemas import UnitGenerationSchema

    for bad in ("{floor.__class__.__mro__}", "{unit:>1000000}", "{unit!r}", "{0}"):
        with pytest.raises(ValueError):
            floor_units("1-2", 2, bad)
    assert floor_units("1", 3, "{floor}-{unit:03d}") == ["1-001", "1-002", "1-003"]
    started = time.process_time()  # CPU: a busy machine's other processes don't count
    for data in ({"floors": "1-10000000", "units_per_floor": 1},
                 {"floors": "1-200", "units_per_floor": 200},
                 {"pattern": ", ".join(["1-2000"] * 500)}):
        with pytest.raises(ValidationError):
            unit_labels(UnitGenerationSchema().load(data))
    assert time.process_time() - started < 2


def test_nul_characters_are_field_errors(app):
    from marshmallow import ValidationError

    from backhaul.core.accounts.schemas import AccountSchema

    with pytest.raises(ValidationError) as refused:
        AccountSchema().load({"name": "Ann\x00Lee"})
    assert "name" in refused.value.messages
