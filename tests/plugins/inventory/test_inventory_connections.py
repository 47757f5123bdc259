"""The inventory lists as GraphQL connections: pages walk with first/after, totalCount, a
filter, a published sort, an unknown sort refused, a bad filter value answered as an error."""
from __future__ import annotations

from decimal import Decimal

import pytest
from connection_checks import gql, refused_sort, statements, walk

from backhaul.sdk import db, utcnow


@pytest.fixture
def seeded(app):
    from backhaul.plugins.inventory.models import (
        Identifier,
        Item,
        ItemModel,
        Location,
        Manufacturer,
        Threshold,
    )

    makers = [Manufacturer(name=n) for n in ("Ubiquiti", "MikroTik", "Huawei")]
    db.session.add_all(makers)
    db.session.flush()
    models = [ItemModel(manufacturer_id=makers[1].id, name="hAP ax2", category="router", fields=[]),
              ItemModel(manufacturer_id=makers[2].id, name="HG8245", category="cpe", fields=[]),
              ItemModel(manufacturer_id=makers[0].id, name="airFiber", category="radio",
                        fields=[])]
    db.session.add_all(models)
    db.session.flush()
    main = Location(code="WH1", name="Main warehouse", kind="warehouse")
    db.session.add(main)
    db.session.flush()
    shelf = Location(code="WH1-S2", name="Shelf two", kind="shelf", parent_id=main.id)
    van = Location(code="VAN7", name="Van seven", kind="van")
    db.session.add_all([shelf, van])
    db.session.flush()
    items = [Item(model_id=m.id, status=s, condition="new", quantity=Decimal(1), location_id=loc)
             for m, s, loc in ((models[0], "in_stock", shelf.id), (models[1], "in_stock", van.id),
                               (models[1], "rma", None), (models[2], "in_stock", main.id))]
    db.session.add_all(items)
    db.session.flush()
    db.session.add_all([Identifier(item_id=i.id, kind="serial", field_key="serial", value=v)
                        for i, v in zip(items, ("HX-100", "HW-200", "HW-201", "UB-300"),
                                        strict=True)])
    thresholds = [Threshold(model_id=models[0].id, location_id=main.id, minimum=Decimal(5),
                            alerted_at=utcnow()),
                  Threshold(model_id=models[1].id, location_id=van.id, minimum=Decimal(2))]
    db.session.add_all(thresholds)
    db.session.commit()
    return {"items": [str(i.id) for i in items], "main": str(main.id), "van": str(van.id),
            "thresholds": [str(t.id) for t in thresholds], "huawei": str(makers[2].id)}


CASES = [
    # field, key, default order, (filter, expected), (sort, expected)
    ("inventoryManufacturers", "name", ["Huawei", "MikroTik", "Ubiquiti"],
     ({"search": "tik"}, ["MikroTik"]), ("-name", ["Ubiquiti", "MikroTik", "Huawei"])),
    ("inventoryModels", "name", ["HG8245", "airFiber", "hAP ax2"],
     ({"search": "huawei"}, ["HG8245"]), ("-name", ["hAP ax2", "airFiber", "HG8245"])),
    ("inventoryLocations", "code", ["VAN7", "WH1", "WH1-S2"],
     ({"topLevel": True}, ["VAN7", "WH1"]), ("-code", ["WH1-S2", "WH1", "VAN7"])),
]


@pytest.mark.parametrize("field,key,default,filtered,ordered", CASES,
                         ids=[c[0] for c in CASES])
def test_catalogue_connections(app, seeded, staff_user, api_token, field, key, default,
                               filtered, ordered):
    token = api_token(staff_user(["inventory.view"]), "full")
    got = walk(app, token, field, key)
    assert sorted(got) == sorted(default) and len(got) == len(default)
    assert walk(app, token, field, key, filter_=filtered[0]) == filtered[1]
    if field != "inventoryModels":  # mixed-case names: order depends on the collation
        assert got == default
        assert walk(app, token, field, key, sort=ordered[0]) == ordered[1]
    else:
        assert walk(app, token, field, key, sort="-name") == list(reversed(got))
    assert "use one of" in refused_sort(app, token, field, key)


def test_items_and_thresholds(app, seeded, staff_user, api_token):
    token = api_token(staff_user(["inventory.view"]), "full")
    ids = seeded["items"]
    assert walk(app, token, "inventoryItems", "id") == ids
    assert walk(app, token, "inventoryItems", "id", sort="-id") == ids[::-1]
    # the warehouse and the shelf below it
    assert walk(app, token, "inventoryItems", "id",
                filter_={"locationId": seeded["main"]}) == [ids[0], ids[3]]
    assert walk(app, token, "inventoryItems", "id", filter_={"status": "in_stock"}) == \
        [ids[0], ids[1], ids[3]]
    assert walk(app, token, "inventoryItems", "id", filter_={"search": "hw-"}) == ids[1:3]
    refused_sort(app, token, "inventoryItems", "id")
    first, second = seeded["thresholds"]
    assert walk(app, token, "inventoryThresholds", "id") == [first, second]
    assert walk(app, token, "inventoryThresholds", "id", sort="-id") == [second, first]
    assert walk(app, token, "inventoryThresholds", "id", filter_={"alerted": True}) == [first]
    assert walk(app, token, "inventoryThresholds", "id",
                filter_={"locationId": seeded["van"]}) == [second]
    refused_sort(app, token, "inventoryThresholds", "id")
    bad = gql(app, token, '{ inventoryItems(filter: {modelId: "nope"}) { totalCount } }')
    assert bad.get("errors") and bad["data"] is None and "INTERNAL" not in str(bad), bad


def test_a_page_of_thresholds_counts_stock_in_constant_sql(app, seeded, staff_user, api_token):
    from backhaul.plugins.inventory.models import Item, Threshold

    token = api_token(staff_user(["inventory.view"]), "full")
    query = "{ inventoryThresholds(first: 50) { nodes { id minimum inStock location { code } } } }"
    got = gql(app, token, query)["data"]["inventoryThresholds"]["nodes"]
    # the router on the shelf below WH1 counts for WH1; the CPE in the van for VAN7
    assert [(n["location"]["code"], n["minimum"], n["inStock"]) for n in got] == [
        ("WH1", "5", "1"), ("VAN7", "2", "1")]
    statements(app, token, query)  # the token's first use writes its own bookkeeping
    few = statements(app, token, query)
    first = db.session.get(Threshold, int(seeded["thresholds"][0]))
    db.session.add_all([Item(model_id=first.model_id, status="in_stock", condition="new",
                             quantity=Decimal(1), location_id=first.location_id)
                        for _ in range(3)])
    db.session.add_all([Threshold(model_id=first.model_id, location_id=int(loc),
                                  minimum=Decimal(1)) for loc in (seeded["van"],)])
    db.session.commit()
    got = gql(app, token, query)["data"]["inventoryThresholds"]["nodes"]
    assert [n["inStock"] for n in got] == ["4", "1", "0"]
    assert statements(app, token, query) == few
