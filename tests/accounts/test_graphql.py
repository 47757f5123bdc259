"""The tenant lifecycle and every bad input through GraphQL; permissions; batched loading."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from accounts_gql import ALL_PERMISSIONS, Gql, count_statements

from backhaul.core.accounts.scheduling import run_due_events
from backhaul.core.db import db, utcnow
from backhaul.sdk.accounts import Account, Address, ScheduledEvent


@pytest.fixture
def gql(app, staff_user, api_token):
    user = staff_user(ALL_PERMISSIONS)
    return Gql(app.test_client(), api_token(user, "full"))


def ok(payload):
    assert payload["ok"] and payload["errors"] == [], payload
    return payload


def errors(payload):
    assert not payload["ok"]
    return {e["field"]: e["messages"] for e in payload["errors"]}


BUILDING = """mutation($input: BuildingInput!) { createBuilding(input: $input) {
  ok errors { field messages } building { id name } } }"""
UNITS = """mutation($id: ID!, $input: GenerateUnitsInput!) { generateUnits(buildingId: $id, input: $input) {
  ok errors { field messages } created { id unit serviceable } skipped } }"""
ONBOARD = """mutation($input: OnboardTenantInput!) { onboardTenant(input: $input) {
  ok errors { field messages } account { id number status { key } primaryContact { email phone isFinancial } } } }"""
MOVE_OUT = """mutation($id: ID!, $on: String!, $status: String) { scheduleMoveOut(accountId: $id, on: $on, status: $status) {
  ok errors { field messages } event { id action status dueAt } } }"""


def _building(gql):
    building = ok(gql(BUILDING, input={"name": "Maple Court", "street": "12 Maple St",
                                       "city": "Springfield", "region": "IL",
                                       "postalCode": "62701"})["createBuilding"])["building"]
    units = ok(gql(UNITS, id=building["id"], input={"pattern": "101-104", "serviceable": True,
                                                    "technology": "fiber"})["generateUnits"])
    return building, {u["unit"]: u["id"] for u in units["created"]}


def test_tenant_lifecycle(app, gql):
    building, units = _building(gql)
    again = ok(gql(UNITS, id=building["id"], input={"pattern": "101-105"})["generateUnits"])
    assert [u["unit"] for u in again["created"]] == ["105"] and len(again["skipped"]) == 4

    jane = ok(gql(ONBOARD, input={"addressId": units["101"], "name": "Jane Doe",
                                  "email": "JANE@example.com", "phone": "415-555-2671"})
              ["onboardTenant"])["account"]
    assert jane["primaryContact"] == {"email": "jane@example.com", "phone": "+14155552671",
                                      "isFinancial": True}
    note = gql("""mutation($id: ID!) { addNote(accountId: $id, input: {body: "Dog: **Rex**", category: "pets"}) {
        ok note { id pinned bodyHtml } } }""", id=jane["id"])["addNote"]["note"]
    assert "<strong>Rex</strong>" in note["bodyHtml"]
    assert gql("""mutation($id: ID!) { pinNote(id: $id, pinned: true) { ok note { pinned } } }""",
               id=note["id"])["pinNote"]["note"]["pinned"]
    ok(gql("""mutation($id: ID!) { logCall(accountId: $id, input: {direction: "inbound",
        summary: "Asked about move-out", durationSeconds: 120}) { ok errors { field messages } } }""",
           id=jane["id"])["logCall"])
    event = ok(gql(MOVE_OUT, id=jane["id"], on=utcnow().date().isoformat())
               ["scheduleMoveOut"])["event"]
    assert (event["action"], event["status"]) == ("move_out", "pending")

    assert run_due_events() == {"done": 1}
    bob = ok(gql(ONBOARD, input={"addressId": units["101"], "name": "Bob",
                                 "phone": "+1 415 555 0199"})["onboardTenant"])["account"]
    data = gql("""query($id: ID!) { address(id: $id) { oneLine building { name }
        currentAccount { name } occupancies { account { name } endedReason } } }""",
               id=units["101"])["address"]
    assert data["currentAccount"]["name"] == "Bob" and data["building"]["name"] == "Maple Court"
    assert [(o["account"]["name"], o["endedReason"]) for o in data["occupancies"]] == [
        ("Bob", ""), ("Jane Doe", "move_out")]
    account = gql("""query($id: ID!) { account(id: $id) { status { key meaning }
        notes(pinned: true) { body } calls { summary direction }
        scheduledEvents { status result } timeline { kind title } } }""", id=jane["id"])["account"]
    assert account["status"] == {"key": "moved_out", "meaning": "inactive"}
    assert account["notes"] == [{"body": "Dog: **Rex**"}]
    assert account["scheduledEvents"][0]["status"] == "done"
    assert {"note", "call", "status", "scheduled_event"} <= {e["kind"] for e in account["timeline"]}
    assert bob["number"] != jane["number"]


def test_bad_input_is_reported_field_by_field(app, gql):
    _, units = _building(gql)
    dup = gql(BUILDING, input={"name": "Other", "street": "12 maple street",
                               "city": "springfield", "region": "il", "postalCode": "62701"})
    assert "already at this address" in errors(dup["createBuilding"])["street"][0]
    address = gql("""mutation { createAddress(input: {street: "12 Maple St", unit: "#101",
        city: "Springfield", region: "IL", postalCode: "62701"}) { ok errors { field messages } } }""")
    assert "already exists" in errors(address["createAddress"])["street"][0]
    bad = errors(gql(ONBOARD, input={"addressId": units["102"], "name": "X", "email": "x@",
                                     "phone": "123"})["onboardTenant"])
    assert set(bad) == {"email", "phone"}
    ok(gql(ONBOARD, input={"addressId": units["102"], "name": "Jane",
                           "email": "jane@example.com"})["onboardTenant"])
    taken = errors(gql(ONBOARD, input={"addressId": units["102"], "name": "Bob",
                                       "email": "bob@example.com"})["onboardTenant"])
    assert "is occupied by account" in taken["addressId"][0]
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 1  # nothing half-written

    account_id = db.session.scalar(sa.select(Account.id))
    unknown = gql("""mutation($id: ID!) { setAccountStatus(id: $id, status: "gone") {
        ok errors { field messages } } }""", id=account_id)["setAccountStatus"]
    assert "Unknown status 'gone'" in errors(unknown)["status"][0]
    schedule = """mutation($id: ID!, $action: String!, $due: String!, $params: JSON) {
        scheduleEvent(accountId: $id, action: $action, dueAt: $due, params: $params) {
        ok errors { field messages } } }"""
    past = gql(schedule, id=account_id, action="change_status", due="2001-01-01",
               params={"status": "inactive"})["scheduleEvent"]
    assert "in the past" in errors(past)["dueAt"][0]
    tomorrow = (utcnow() + timedelta(days=1)).isoformat()
    params = gql(schedule, id=account_id, action="switch_primary_contact", due=tomorrow,
                 params={"contact_id": 12345})["scheduleEvent"]
    assert "not a contact" in errors(params)["params.contactId"][0]
    move = gql(MOVE_OUT, id=account_id, on=tomorrow[:10], status="active")["scheduleMoveOut"]
    assert "means active" in errors(move)["status"][0]
    assert db.session.scalar(sa.select(sa.func.count(ScheduledEvent.id))) == 0

    csv = "street,unit,city\n1 A St,1,X\n1 A St,1,X\n2 B St,2,X,extra\n"
    result = gql("""mutation($csv: String!) { importAddresses(csv: $csv) { ok createdCount
        rowErrors { line field message } errors { field messages } } }""", csv=csv)
    imported = result["importAddresses"]
    assert not imported["ok"] and imported["createdCount"] == 0
    assert [(e["line"], e["field"]) for e in imported["rowErrors"]] == [(4, "row")]


def test_permissions_are_enforced(app, staff_user, api_token):
    viewer = Gql(app.test_client(), api_token(staff_user(["accounts.account.view"]), "full"))
    status, body = viewer.raw("""mutation { createAccount(input: {name: "X"}) { ok } }""")
    assert body["data"] is None or body["data"].get("createAccount") is None
    assert "accounts.account.edit" in body["errors"][0]["message"]
    status, body = viewer.raw("{ addresses { totalCount } }")
    assert "accounts.address.view" in body["errors"][0]["message"]
    assert viewer("{ accounts { totalCount } }")["accounts"]["totalCount"] == 0
    anonymous = app.test_client().post("/graphql", json={"query": "{ accounts { totalCount } }"})
    assert anonymous.status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


LIST = """query($first: Int, $filter: AccountFilter) { accounts(first: $first, filter: $filter) {
  totalCount edges { node { number name status { key colour } groups parent { number }
    contacts { name email } primaryContact { name }
    address { oneLine building { name } currentAccount { number } } } } } }"""


def test_account_list_costs_constant_queries_and_filters(app, gql):
    from backhaul.core.accounts.accounts import create_account
    from backhaul.core.accounts.buildings import generate_units
    from backhaul.core.accounts.contacts import add_contact
    from backhaul.sdk.accounts import create_building

    building = create_building({"name": "Tower", "street": "1 Tower Rd", "city": "X"})
    units, _ = generate_units(building, {"pattern": "1-40", "serviceable": True})
    owner = create_account(name="Owner", account_type="building_owner")
    for i, unit in enumerate(units):
        account = create_account(name=f"Tenant {i}", address_id=unit.id, parent_id=owner.id,
                                 groups=["Tower", "even" if i % 2 else "odd"],
                                 status="delinquent" if i % 10 == 0 else None)
        add_contact(account, {"name": f"T{i}", "email": f"t{i}@example.com"})
        add_contact(account, {"name": f"P{i}", "phone": "+14155552671", "is_financial": True})
    db.session.commit()
    gql("{ viewer { email } }")
    counts = {}
    for size in (5, 30):
        with count_statements(db.engine) as statements:
            data = gql(LIST, first=size)
        edges = data["accounts"]["edges"]
        assert len(edges) == size
        tenants = [e["node"] for e in edges if e["node"]["address"]]
        assert all(n["address"]["currentAccount"]["number"] == n["number"] for n in tenants)
        assert all(len(n["contacts"]) == 2 and n["groups"] for n in tenants)
        counts[size] = len(statements)
    print("STATEMENTS", counts)
    assert counts[5] == counts[30], counts

    def total(**filter):
        return gql(LIST, first=1, filter=filter)["accounts"]["totalCount"]

    assert total() == 41
    assert total(status="delinquent") == 4 and total(meaning="active") == 37
    assert total(group="odd") == 20 and total(buildingId=str(building.id)) == 40
    assert total(search="Tenant 3") == 11 and total(search="t7@example.com") == 1
    assert total(accountType="building_owner") == 1
    free = gql("""query($b: ID) { addresses(filter: {buildingId: $b, occupied: false}) { totalCount }
        buildings(filter: {search: "tower"}) { nodes { name units(first: 3) { nodes { unit } } } } }""",
               b=str(building.id))
    assert free["addresses"]["totalCount"] == 0
    assert free["buildings"]["nodes"][0]["units"]["nodes"] == [{"unit": "1"}, {"unit": "10"},
                                                               {"unit": "11"}]
    assert db.session.scalar(sa.select(sa.func.count(Address.id))) == 40


def test_contacts_events_and_statuses_mutations(app, gql):
    account = ok(gql("""mutation { createAccount(input: {name: "Acme Lofts", accountType: "business",
        groups: ["VIP"]}) { ok errors { field messages } account { id number groups } } }""")
                 ["createAccount"])["account"]
    assert account["groups"] == ["VIP"]
    add = """mutation($id: ID!, $input: ContactInput!) { addContact(accountId: $id, input: $input) {
        ok errors { field messages } contact { id isPrimary isFinancial email phone preferences } } }"""
    first = ok(gql(add, id=account["id"], input={"name": "Ann", "email": "ANN@acme.example"})
               ["addContact"])["contact"]
    assert first["isPrimary"] and first["preferences"]["billing"] == {"email": True, "sms": False}
    second = ok(gql(add, id=account["id"], input={"name": "Ben", "phone": "+1 415 555 0100",
                                                  "isFinancial": True})["addContact"])["contact"]
    bad = errors(gql(add, id=account["id"], input={"name": "", "email": "nope",
                                                   "preferences": {"spam": {}}})["addContact"])
    assert set(bad) == {"name", "email", "preferences"}
    switched = gql("""mutation($id: ID!) { setPrimaryContact(id: $id) { ok contact { isPrimary } } }""",
                   id=second["id"])["setPrimaryContact"]
    assert switched["contact"]["isPrimary"]
    updated = gql("""mutation($id: ID!) { updateContact(id: $id, input: {preferences: {outages: {sms: true}}}) {
        ok errors { field messages } contact { preferences } } }""", id=second["id"])["updateContact"]
    assert ok(updated)["contact"]["preferences"]["outages"] == {"email": True, "sms": True}

    schedule = """mutation($id: ID!, $params: JSON) { scheduleEvent(accountId: $id,
        action: "switch_financial_contact", dueAt: "2099-01-01T09:00", params: $params) {
        ok errors { field messages } event { id status dueAt label } } }"""
    event = ok(gql(schedule, id=account["id"], params={"contact_id": int(first["id"])})
               ["scheduleEvent"])["event"]
    assert event["label"] == "Switch financial contact" and event["status"] == "pending"
    moved = gql("""mutation($id: ID!) { rescheduleScheduledEvent(id: $id, dueAt: "2099-02-01") {
        ok event { dueAt } } }""", id=event["id"])["rescheduleScheduledEvent"]
    assert moved["event"]["dueAt"].startswith("2099-02-01")
    assert gql("""mutation($id: ID!) { cancelScheduledEvent(id: $id) { ok event { status } } }""",
               id=event["id"])["cancelScheduledEvent"]["event"]["status"] == "cancelled"
    again = gql("""mutation($id: ID!) { cancelScheduledEvent(id: $id) { ok errors { field messages } } }""",
                id=event["id"])["cancelScheduledEvent"]
    assert "only a pending or failed event" in errors(again)["event"][0]
    listed = gql("""query($id: ID) { scheduledEvents(filter: {accountId: $id, status: ["cancelled"]}) {
        totalCount } contacts(filter: {accountId: $id, isFinancial: true}) { nodes { name } }
        scheduledActionTypes { key } accountStatuses { nodes { key } } }""", id=account["id"])
    assert listed["scheduledEvents"]["totalCount"] == 1
    assert listed["contacts"]["nodes"] == [{"name": "Ben"}]
    assert {"change_status", "move_out", "switch_primary_contact",
            "switch_financial_contact"} <= {t["key"] for t in listed["scheduledActionTypes"]}

    status = gql("""mutation { saveAccountStatus(input: {key: "vacation_hold", name: "Vacation hold",
        colour: "#0ea5e9", meaning: "inactive"}) { ok errors { field messages } status { key meaning } } }""")
    assert ok(status["saveAccountStatus"])["status"] == {"key": "vacation_hold", "meaning": "inactive"}
    bad_status = gql("""mutation { saveAccountStatus(input: {key: "x", name: "X", colour: "blue",
        meaning: "asleep"}) { ok errors { field messages } } }""")["saveAccountStatus"]
    assert set(errors(bad_status)) == {"colour", "meaning"}
    removed = gql("""mutation($id: ID!) { removeContact(id: $id) { ok errors { field messages } } }""",
                  id=second["id"])["removeContact"]
    assert "primary contact" in errors(removed)["contact"][0]
