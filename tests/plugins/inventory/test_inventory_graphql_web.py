"""GraphQL and the staff pages: every bad input is a field-level error with nothing written,
the same permissions guard both, and the pages show what the issue's "done when" asks (a van's
load, an account's router and SIM with their history)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from inventory_helpers import BAD_ICCID, GOOD_ICCID, counts, setup_stock

from backhaul.sdk import db

ALL = ["inventory.view", "inventory.stock.manage", "inventory.catalogue.manage",
       "accounts.account.view"]


def gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert "errors" not in body, body
    return body["data"]


RECEIVE = """mutation($input: InventoryReceiveInput!) { inventoryReceiveItems(input: $input) {
  ok errors { field messages } items { id identifiers { kind value } } } }"""
MOVE = """mutation($item: ID!, $loc: ID!, $qty: String) {
  inventoryMoveItem(itemId: $item, locationId: $loc, quantity: $qty) {
    ok errors { field messages } item { id quantity } } }"""


@pytest.fixture
def token(app, staff_user, api_token):
    return api_token(staff_user(ALL), "full")


def _receive(app, token, model, location, items):
    return gql(app, token, RECEIVE, {"input": {"modelId": str(model.id),
                                               "locationId": str(location.id),
                                               "items": items}})["inventoryReceiveItems"]


@pytest.mark.parametrize("items, field, message", [
    ([{"serial": "G1", "mac": "00:11:22:33:44:5"}], "items.0.mac", "is not a MAC address"),
    ([{"serial": "G1", "mac": "00:11:22:33:44:55", "imsi": "31026000000000"}],
     "items.0.imsi", "an IMSI has 15 digits; '31026000000000' has 14"),
    ([{"serial": "G1", "mac": "00:11:22:33:44:55"}, {"serial": "G2"}], "items.1.mac",
     "MAC is required for a LTE Router 5"),
    ([{"serial": "G1", "mac": "00:11:22:33:44:55"},
      {"serial": "G2", "mac": "00-11-22-33-44-55"}], "items.1.mac",
     "00:11:22:33:44:55 is scanned twice in this batch (item 1)"),
    ([{"serial": "OLD-1", "mac": "00:11:22:33:44:56"}], "items.0.serial",
     "OLD-1 is already used by item #1"),
    ([{"serial": "G1", "mac": "00:11:22:33:44:57", "colour": "red"}], "items.0.colour",
     "'red' is not one of black, white"),
])
def test_bad_router_input_is_a_field_error_and_writes_nothing(app, token, items, field,
                                                              message):
    s = setup_stock()
    from backhaul.plugins.inventory import stock

    stock.receive(s.router.id, s.bin1.id, [{"serial": "OLD-1", "mac": "00:aa:00:00:00:01"}])
    db.session.commit()
    before = counts()
    result = _receive(app, token, s.router, s.bin1, items)
    assert result["ok"] is False and result["items"] is None
    assert message in {e["field"]: e["messages"] for e in result["errors"]}[field][0]
    db.session.expire_all()
    assert counts() == before


def test_iccid_check_digit_and_over_moving_bulk_are_field_errors(app, token):
    s = setup_stock()
    before = counts()
    bad = _receive(app, token, s.sim, s.bin1, [{"iccid": BAD_ICCID}])
    assert bad["errors"] == [{"field": "items.0.iccid", "messages": [
        f"'{BAD_ICCID}' fails the ICCID check digit: a digit was misread or mistyped"]}]
    assert counts() == before
    good = _receive(app, token, s.sim, s.bin1, [{"iccid": GOOD_ICCID}])
    assert good["ok"] and good["items"][0]["identifiers"] == [
        {"kind": "iccid", "value": GOOD_ICCID}]
    reel = gql(app, token, RECEIVE, {"input": {"modelId": str(s.cable.id),
                                               "locationId": str(s.bin1.id),
                                               "quantity": "50"}})["inventoryReceiveItems"]
    reel_id = reel["items"][0]["id"]
    before = counts()
    over = gql(app, token, MOVE, {"item": reel_id, "loc": str(s.van.id), "qty": "50.001"})
    assert over["inventoryMoveItem"] == {"ok": False, "item": None, "errors": [
        {"field": "quantity", "messages": ["only 50 m here: you cannot move 50.001"]}]}
    assert counts() == before
    part = gql(app, token, MOVE, {"item": reel_id, "loc": str(s.van.id), "qty": "20"})
    assert part["inventoryMoveItem"]["ok"] and part["inventoryMoveItem"]["item"]["quantity"] == "20"
    van = gql(app, token, """query($l: ID!) { inventoryItems(filter: {locationId: $l}) {
      totalCount edges { node { quantity model { unit } } } } }""", {"l": str(s.van.id)})
    assert van["inventoryItems"]["totalCount"] == 1
    assert van["inventoryItems"]["edges"][0]["node"] == {"quantity": "20", "model": {"unit": "m"}}


def test_catalogue_through_graphql(app, token):
    data = gql(app, token, 'mutation { inventoryCreateManufacturer(name: "Ubiquiti") '
                           '{ ok manufacturer { id } } }')
    maker = data["inventoryCreateManufacturer"]["manufacturer"]["id"]
    create = """mutation($i: InventoryModelInput!) { inventoryCreateModel(input: $i) {
      ok errors { field messages } model { id label fields { key type required unique } } } }"""
    bad = gql(app, token, create, {"i": {"manufacturerId": maker, "name": "LiteBeam",
                                         "category": "radio", "fields": [
                                             {"label": "Serial", "type": "serial"},
                                             {"label": "Band", "type": "frequency"}]}})
    assert bad["inventoryCreateModel"]["errors"] == [
        {"field": "fields.1.type", "messages": [
            "one of text, number, date, choice, mac, imsi, iccid, serial"]}]
    ok = gql(app, token, create, {"i": {"manufacturerId": maker, "name": "LiteBeam",
                                        "category": "radio", "fields": [
                                            {"label": "Serial", "type": "serial",
                                             "required": True},
                                            {"label": "MAC", "type": "mac"}]}})
    model = ok["inventoryCreateModel"]["model"]
    assert model["label"] == "Ubiquiti LiteBeam"
    assert model["fields"] == [
        {"key": "serial", "type": "serial", "required": True, "unique": True},
        {"key": "mac", "type": "mac", "required": False, "unique": True}]
    loc = gql(app, token, """mutation { inventoryCreateLocation(input: {code: "WH9",
      name: "Depot", kind: "warehouse"}) { ok location { id path } } }""")
    assert loc["inventoryCreateLocation"]["location"]["path"] == "Depot"
    dup = gql(app, token, """mutation { inventoryCreateLocation(input: {code: "wh9",
      name: "Depot 2", kind: "warehouse"}) { ok errors { field messages } } }""")
    assert dup["inventoryCreateLocation"]["errors"] == [
        {"field": "code", "messages": ["the code 'wh9' is taken"]}]
    checks = gql(app, token, """query($m: ID!) { inventoryCheckScans(modelId: $m,
      fieldKey: "mac", values: ["AABBCCDDEEFF", "aa-bb-cc-dd-ee-ff", "zz"]) {
      ok normalised message } }""", {"m": model["id"]})["inventoryCheckScans"]
    assert [(c["ok"], c["normalised"]) for c in checks] == [
        (True, "aa:bb:cc:dd:ee:ff"), (False, "aa:bb:cc:dd:ee:ff"), (False, None)]


def test_a_viewer_cannot_change_stock(app, staff_user, api_token):
    s = setup_stock()
    viewer = api_token(staff_user(["inventory.view"]), "full")
    response = app.test_client().post("/graphql", json={"query": RECEIVE, "variables": {
        "input": {"modelId": str(s.radio.id), "locationId": str(s.bin1.id),
                  "items": [{"serial": "V1"}]}}},
        headers={"Authorization": f"Bearer {viewer}"}).get_json()
    assert response["errors"] and "inventory.stock.manage" in str(response["errors"])
    assert counts()["inventory_item"] == 0


def test_pages_van_and_account_panel(app, staff_user, login, csrf_token):
    from backhaul.plugins.inventory import stock
    from backhaul.sdk.accounts import create_account

    s = setup_stock()
    account = create_account(name="Panel Tenant")
    [router] = stock.receive(s.router.id, s.bin1.id, [{"serial": "RT-1",
                                                       "mac": "02:00:00:00:00:01"}])
    [sim] = stock.receive(s.sim.id, s.bin1.id, [{"iccid": GOOD_ICCID}])
    stock.receive(s.cable.id, s.van.id, quantity="120")
    [radio] = stock.receive(s.radio.id, s.van.id, [{"serial": "VR-1"}])
    db.session.commit()
    web = app.test_client()
    login(web, staff_user(ALL))
    for item in (router, sim):
        web.post(f"/inventory/items/{item.id}/assign", data={
            "holder_type": "account", "holder": account.number, "install": "y",
            "csrf_token": csrf_token(web)})
    van = web.get(f"/inventory/locations/{s.van.id}").get_data(as_text=True)
    assert "Drop cable: <strong>120</strong> m" in van and "VR-1" in van
    panel = web.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "RT-1" in panel and GOOD_ICCID in panel and "Equipment history (2)" in panel
    assert "Equipment installed" in panel                      # the account timeline
    searched = web.get("/search?q=rt-1").get_data(as_text=True)  # the global search box
    assert "Acme Networks LTE Router 5 #" in searched
    refused = web.post(f"/inventory/items/{radio.id}/move", data={
        "location_id": str(s.van.id), "csrf_token": csrf_token(web)}, follow_redirects=True)
    assert "already there" in refused.get_data(as_text=True)
    found = web.get("/inventory/lookup?q=02-00-00-00-00-01")
    assert found.status_code == 302 and found.location.endswith(f"/inventory/items/{router.id}")
    page = web.get(f"/inventory/items/{router.id}").get_data(as_text=True)
    assert "install" in page and f"{account.number} Panel Tenant" in page
    imported = web.post("/inventory/import", data={
        "csv": "model,location,serial\nAcme Networks AirBeam 5,VAN-1,VR-1\n",
        "csrf_token": csrf_token(web)})
    assert imported.status_code == 422
    assert "line 2: serial: VR-1 is already used by item" in imported.get_data(as_text=True)
    exported = web.get("/inventory/export.csv")
    assert exported.mimetype == "text/csv" and "RT-1" in exported.get_data(as_text=True)
    for path in ("/inventory/", "/inventory/items", "/inventory/models",
                 f"/inventory/models/{s.router.id}", "/inventory/intake", "/inventory/import"):
        assert web.get(path).status_code == 200, path


def test_demo_data_loads_twice(app):
    from backhaul.plugins.inventory.demo import load_demo

    load_demo()
    first = counts()
    load_demo()
    assert counts() == first and first["inventory_item"] == 8


def test_model_form_with_field_rows(app, staff_user, login, csrf_token):
    from backhaul.plugins.inventory.models import ItemModel

    s = setup_stock()
    web = app.test_client()
    login(web, staff_user(ALL))
    form = {"manufacturer_id": str(s.maker.id), "name": "ONT 1G", "category": "cpe",
            "field-0-label": "Serial", "field-0-type": "serial", "field-0-required": "y",
            "field-1-label": "GPON SN", "field-1-key": "gpon_sn", "field-1-type": "text",
            "field-1-unique": "y", "field-2-label": "Band", "field-2-type": "choice",
            "csrf_token": csrf_token(web)}
    refused = web.post("/inventory/models", data=form)
    assert refused.status_code == 422
    assert "fields.2.choices: list the choices" in refused.get_data(as_text=True)
    form["field-2-choices"] = "2.4, 5"
    assert web.post("/inventory/models", data=form).status_code == 302
    model = db.session.scalar(sa.select(ItemModel).where(ItemModel.name == "ONT 1G"))
    assert [(f["key"], f["type"], f["required"], f["unique"], f["choices"])
            for f in model.fields] == [("serial", "serial", True, True, []),
                                       ("gpon_sn", "text", False, True, []),
                                       ("band", "choice", False, False, ["2.4", "5"])]
    # a unique text field is unique too (per model), through the same index
    from backhaul.plugins.inventory import stock

    stock.receive(model.id, s.bin1.id, [{"serial": "O1", "gpon_sn": "HWTC0001"}])
    with pytest.raises(Exception, match="already used"):
        stock.receive(model.id, s.bin1.id, [{"serial": "O2", "gpon_sn": "HWTC0001"}])


def test_swap_scheduled_from_the_item_page(app, staff_user, login, csrf_token):
    from datetime import date

    from backhaul.core.accounts.scheduling import run_event
    from backhaul.plugins.inventory import stock
    from backhaul.sdk.accounts import ScheduledEvent, create_account

    s = setup_stock()
    account = create_account(name="Swap Page Tenant")
    old, new = stock.receive(s.router.id, s.bin1.id, [
        {"serial": "SW-OLD", "mac": "02:00:00:00:01:01"},
        {"serial": "SW-NEW", "mac": "02:00:00:00:01:02"}])
    stock.assign(old, "account", account.id, install=True)
    db.session.commit()
    web = app.test_client()
    login(web, staff_user(ALL + ["accounts.event.manage"]))
    assert "Swap on a date" in web.get(f"/inventory/items/{old.id}").get_data(as_text=True)
    form = {"replacement": "0200.0000.0199", "due": date.today().isoformat(),
            "location_id": str(s.bin2.id), "condition": "faulty",
            "csrf_token": csrf_token(web)}
    refused = web.post(f"/inventory/items/{old.id}/swap", data=form, follow_redirects=True)
    assert "no item in stock carries &#39;0200.0000.0199&#39;" in refused.get_data(as_text=True)
    form["replacement"] = "0200.0000.0102"  # the new router's MAC, as a scanner reads it
    done = web.post(f"/inventory/items/{old.id}/swap", data=form, follow_redirects=True)
    assert "Swap scheduled for" in done.get_data(as_text=True)
    event = db.session.scalar(sa.select(ScheduledEvent))
    assert event.params == {"remove_item_id": old.id, "install_item_id": new.id,
                            "return_location_id": s.bin2.id, "return_condition": "faulty"}
    assert run_event(event.id) == "done"
    db.session.expire_all()
    assert (old.status, old.condition, old.location_id) == ("in_stock", "faulty", s.bin2.id)
    assert [i.id for i in stock.held_by("account", account.id)] == [new.id]


def test_lookup_history_thresholds_and_field_changes_through_graphql(app, token):
    from backhaul.plugins.inventory import stock

    s = setup_stock()
    [router] = stock.receive(s.router.id, s.bin1.id, [{"serial": "GQ-1",
                                                       "mac": "02:00:00:00:02:01"}])
    stock.move(router, s.van.id)
    db.session.commit()
    data = gql(app, token, """{ inventoryLookup(value: "02-00-00-00-02-01") { id status
      location { code path } history { action fromLocationId toLocationId actor } } }""")
    [found] = data["inventoryLookup"]
    assert found["location"] == {"code": "VAN-1", "path": "Van 1"}
    assert [(h["action"], h["fromLocationId"], h["toLocationId"]) for h in found["history"]] == [
        ("receive", None, str(s.bin1.id)), ("move", str(s.bin1.id), str(s.van.id))]
    threshold = gql(app, token, """mutation($m: ID!, $l: ID!) { inventorySetThreshold(
      modelId: $m, locationId: $l, minimum: "2") { ok threshold { minimum inStock alertedAt } } }""",
                    {"m": str(s.router.id), "l": str(s.wh.id)})["inventorySetThreshold"]
    assert threshold["threshold"]["inStock"] == "0" and threshold["threshold"]["alertedAt"]
    changed = gql(app, token, """mutation($m: ID!) { inventoryUpdateModelFields(modelId: $m,
      fields: [{label: "Serial", type: "text", required: true}]) {
      ok errors { field messages } } }""", {"m": str(s.router.id)})
    assert changed["inventoryUpdateModelFields"]["errors"] == [{"field": "fields.0.type",
        "messages": ["1 item(s) already carry 'serial': add a new field instead of changing "
                     "its type or uniqueness"]}]
    added = gql(app, token, """mutation($m: ID!) { inventoryUpdateModelFields(modelId: $m,
      fields: [{label: "Serial", type: "serial", required: true},
               {label: "MAC", type: "mac", required: true},
               {label: "Firmware", type: "text"}]) { ok model { fields { key } } } }""",
                {"m": str(s.router.id)})["inventoryUpdateModelFields"]
    assert [f["key"] for f in added["model"]["fields"]] == ["serial", "mac", "firmware"]


def test_correcting_a_misread_mac(app, token, staff_user, login, csrf_token):
    from backhaul.plugins.inventory import stock

    s = setup_stock()
    a, b = stock.receive(s.router.id, s.bin1.id, [
        {"serial": "FX-1", "mac": "02:00:00:00:03:01"},
        {"serial": "FX-2", "mac": "02:00:00:00:03:02"}])
    db.session.commit()
    update = """mutation($i: ID!, $v: JSON) { inventoryUpdateItem(itemId: $i, values: $v) {
      ok errors { field messages } item { identifiers { fieldKey value } } } }"""
    before = counts()
    for values, field, message in (
            ({"mac": "02:00:00:00:03:02"}, "values.mac", "already used by item #2"),
            ({"mac": ""}, "values.mac", "MAC is required"),
            ({"imsi": "31026000000000"}, "values.imsi", "an IMSI has 15 digits")):
        refused = gql(app, token, update, {"i": str(a.id), "v": values})["inventoryUpdateItem"]
        assert refused["ok"] is False
        assert message in {e["field"]: e["messages"] for e in refused["errors"]}[field][0]
    assert counts() == before and stock.find("mac", "02:00:00:00:03:01").id == a.id
    fixed = gql(app, token, update, {"i": str(a.id), "v": {"mac": "0200.0000.0309"}})
    assert fixed["inventoryUpdateItem"]["item"]["identifiers"] == [
        {"fieldKey": "serial", "value": "FX-1"}, {"fieldKey": "mac", "value": "02:00:00:00:03:09"}]
    db.session.expire_all()
    assert stock.find("mac", "02:00:00:00:03:01") is None
    assert stock.find("mac", "02:00:00:00:03:09").id == a.id
    web = app.test_client()
    login(web, staff_user(ALL))
    web.post(f"/inventory/items/{b.id}/edit", data={
        "value-serial": "FX-2", "value-mac": "02:00:00:00:03:02", "value-imsi": "310260000000077",
        "value-colour": "white", "management_address": "10.1.1.2", "notes": "",
        "csrf_token": csrf_token(web)})
    db.session.expire_all()
    assert stock.find("imsi", "310260000000077").id == b.id
    assert stock.current_values(stock.find("serial", "FX-2"))["colour"] == "white"


def test_a_page_of_items_costs_the_same_sql_for_5_or_40_items(app, token):
    from backhaul.plugins.inventory import stock

    s = setup_stock()
    query = """{ inventoryItems(first: 50) { totalCount edges { node { id quantity
      model { label manufacturer { name } } location { code } identifiers { value } } } } }"""

    def statements() -> int:
        count = 0

        def before(*_a):
            nonlocal count
            count += 1
        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            data = gql(app, token, query)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
        assert data["inventoryItems"]["edges"][0]["node"]["identifiers"]
        return count

    stock.receive(s.radio.id, s.bin1.id, [{"serial": f"Q{n}"} for n in range(5)])
    db.session.commit()
    statements()  # the token's first use writes its own bookkeeping
    few = statements()
    stock.receive(s.radio.id, s.bin2.id, [{"serial": f"Q{n}"} for n in range(5, 40)])
    db.session.commit()
    assert statements() == few


def test_equipment_at_an_address_shows_on_the_tenant_account(app, staff_user, login):
    from backhaul.plugins.inventory import stock
    from backhaul.sdk.accounts import create_account, create_address

    s = setup_stock()
    address = create_address({"street": "12 North Main Street", "unit": "4B",
                              "city": "Springfield", "region": "IL", "postal_code": "62701",
                              "country": "us"})
    account = create_account(name="Address Tenant", address_id=address.id)
    [ont] = stock.receive(s.radio.id, s.bin1.id, [{"serial": "WALL-1"}])
    stock.assign(ont, "address", address.id, install=True)
    db.session.commit()
    web = app.test_client()
    login(web, staff_user(ALL))
    panel = web.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "WALL-1" in panel and "at the account&#39;s address" in panel
    page = web.get(f"/inventory/items/{ont.id}").get_data(as_text=True)
    assert "12 North Main Street" in page
    with pytest.raises(Exception, match="there is no address 999"):
        stock.assign(stock.find("serial", "WALL-1"), "address", 999)


def test_csv_upload_and_graphql_import_export(app, token, staff_user, login, csrf_token):
    import io

    setup_stock()
    web = app.test_client()
    login(web, staff_user(ALL))
    text = "model,location,serial\nAcme Networks AirBeam 5,WH1-A-01,UP-1\n"
    uploaded = web.post("/inventory/import", data={
        "file": (io.BytesIO(text.encode()), "radios.csv"), "csrf_token": csrf_token(web)},
        content_type="multipart/form-data")
    assert uploaded.status_code == 302
    latin = web.post("/inventory/import", data={
        "file": (io.BytesIO("model\n\xe9".encode("latin-1")), "x.csv"),
        "csrf_token": csrf_token(web)}, content_type="multipart/form-data")
    assert latin.status_code == 422 and "not UTF-8" in latin.get_data(as_text=True)
    imported = gql(app, token, """mutation($c: String!) { inventoryImportItems(csv: $c) {
      ok errors { field messages } items { id } } }""", {"c": text.replace("UP-1", "UP-2") +
                                                          "Acme Networks AirBeam 5,WH1-A-01,UP-1\n"})
    assert imported["inventoryImportItems"] == {"ok": False, "items": None, "errors": [
        {"field": "csv", "messages": ["line 3: serial: UP-1 is already used by item #1"]}]}
    exported = gql(app, token, "{ inventoryExportCsv }")["inventoryExportCsv"]
    assert exported.splitlines()[1].startswith("1,Acme Networks AirBeam 5,WH1-A-01,new,1,")


def test_a_refused_action_shows_its_error_beside_the_field(app, staff_user, login, csrf_token):
    from backhaul.plugins.inventory import stock

    s = setup_stock()
    [reel] = stock.receive(s.cable.id, s.bin1.id, quantity="30")
    [router] = stock.receive(s.router.id, s.bin1.id, [{"serial": "EF-1",
                                                       "mac": "02:00:00:00:04:01"}])
    db.session.commit()
    before = counts()
    web = app.test_client()
    login(web, staff_user(ALL))
    over = web.post(f"/inventory/items/{reel.id}/move", data={
        "location_id": str(s.van.id), "quantity": "31", "csrf_token": csrf_token(web)})
    page = over.get_data(as_text=True)
    assert over.status_code == 422
    assert ('<p class="field-error" id="move-quantity-error">only 30 m here: you cannot move 31'
            '</p>') in page
    assert 'value="31"' in page  # what was typed is kept
    bad_mac = web.post(f"/inventory/items/{router.id}/edit", data={
        "value-serial": "EF-1", "value-mac": "02:00:00:00:04", "csrf_token": csrf_token(web)})
    assert bad_mac.status_code == 422
    assert 'id="value-mac-error">&#39;02:00:00:00:04&#39; is not a MAC address' in \
        bad_mac.get_data(as_text=True)
    nobody = web.post(f"/inventory/items/{router.id}/assign", data={
        "holder_type": "account", "holder": "NO-SUCH", "csrf_token": csrf_token(web)})
    assert 'id="assign-holder-error">no account numbered NO-SUCH' in nobody.get_data(as_text=True)
    db.session.expire_all()
    assert counts() == before


def test_editing_locations_models_and_manufacturers(app, token, staff_user, login, csrf_token):
    s = setup_stock()
    update = """mutation($l: ID!, $p: ID) { inventoryUpdateLocation(locationId: $l, parentId: $p) {
      ok errors { field messages } location { path } } }"""
    inside = gql(app, token, update, {"l": str(s.wh.id), "p": str(s.shelf.id)})
    assert inside["inventoryUpdateLocation"]["errors"] == [{"field": "parentId", "messages": [
        "a location cannot go inside itself or a location below it"]}]
    moved = gql(app, token, update, {"l": str(s.van.id), "p": str(s.wh.id)})
    assert moved["inventoryUpdateLocation"]["location"]["path"] == "Main warehouse › Van 1"
    top = gql(app, token, update, {"l": str(s.van.id), "p": None})
    assert top["inventoryUpdateLocation"]["location"]["path"] == "Van 1"
    renamed = gql(app, token, """mutation($m: ID!) { inventoryUpdateModel(modelId: $m,
      name: "AirBeam 5 Gen2") { ok model { label } } }""", {"m": str(s.radio.id)})
    assert renamed["inventoryUpdateModel"]["model"]["label"] == "Acme Networks AirBeam 5 Gen2"
    taken = gql(app, token, """mutation($m: ID!) { inventoryUpdateModel(modelId: $m,
      name: "data sim") { ok errors { field messages } } }""", {"m": str(s.radio.id)})
    assert taken["inventoryUpdateModel"]["errors"] == [{"field": "name", "messages": [
        "this manufacturer already has a model 'data sim'"]}]
    web = app.test_client()
    login(web, staff_user(ALL))
    web.post(f"/inventory/locations/{s.van.id}/edit", data={
        "name": "Van 1 (Tom)", "description": "Tom's van", "parent_id": "",
        "csrf_token": csrf_token(web)})
    web.post(f"/inventory/manufacturers/{s.maker.id}/rename", data={
        "name": "Acme", "csrf_token": csrf_token(web)})
    db.session.expire_all()
    assert (s.van.name, s.van.description, s.van.parent_id) == ("Van 1 (Tom)", "Tom's van", None)
    assert s.radio.label == "Acme AirBeam 5 Gen2"
