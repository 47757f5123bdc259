"""A building's units as the office manager handles them: edit the building, pre-qualify
many units at once, access notes that outlive tenants, and the next tenant booked while the
current one's move-out is pending (the move-in runs after the move-out)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backhaul.core.accounts import addresses, buildings, moves, units
from backhaul.core.accounts.models import Account, Address, Building, ScheduledEvent
from backhaul.core.db import db

PERMS = ["accounts.account.view", "accounts.address.view", "accounts.address.edit",
         "accounts.tenant.move", "accounts.event.manage"]


@pytest.fixture
def court(app):
    building = addresses.create_building({"name": "Maple Court", "street": "12 Maple St",
                                          "city": "Springfield", "region": "IL",
                                          "postal_code": "62701"})
    buildings.generate_units(building, {"pattern": "101-104"})
    db.session.commit()
    return building


@pytest.fixture
def office(app, staff_user, login, csrf_token):
    client = app.test_client()
    login(client, staff_user(PERMS))
    token = csrf_token(client)
    client.post_form = lambda url, **form: client.post(
        url, data={**form, "csrf_token": token}, follow_redirects=True)
    return client


def _unit(label: str) -> Address:
    return db.session.scalar(sa.select(Address).where(Address.unit == label))


def test_edit_building_and_mark_many_units_serviceable(app, court, office):
    page = office.post_form(f"/accounts/buildings/{court.id}/edit", name="Maple Court East",
                            street="12 Maple St", city="Springfield", region="IL",
                            postal_code="62701", country="US")
    assert "Building saved." in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Building, court.id).name == "Maple Court East"
    picked = [str(_unit(u).id) for u in ("101", "102", "103")]
    page = office.post_form(f"/accounts/buildings/{court.id}/serviceability", unit=picked,
                            serviceable="y", technology="fiber", max_down_mbps="1000")
    assert "3 unit(s) marked serviceable." in page.get_data(as_text=True)
    db.session.expire_all()
    assert [(_unit(u).serviceable, _unit(u).technology) for u in ("101", "103", "104")] == [
        (True, "fiber"), (True, "fiber"), (False, "")]
    refused = office.post_form(f"/accounts/buildings/{court.id}/serviceability",
                               serviceable="y")
    assert "Choose at least one unit." in refused.get_data(as_text=True)


def test_access_notes_stay_when_tenants_change(app, court, office):
    unit = _unit("101")
    unit.serviceable = True
    jane = moves.onboard_tenant({"name": "Jane Doe", "email": "jane@example.com",
                                 "address_id": unit.id})
    db.session.commit()
    office.post_form(f"/accounts/addresses/{unit.id}/access", notes="Key box 4321 by the gate")
    moves.execute_move_out(jane)
    bob = moves.onboard_tenant({"name": "Bob Roe", "email": "bob@example.com",
                                "address_id": unit.id})
    db.session.commit()
    page = office.get(f"/accounts/addresses/{unit.id}").get_data(as_text=True)
    assert "Key box 4321 by the gate" in page and "Bob Roe" in page
    tenant_page = office.get(f"/accounts/{bob.id}").get_data(as_text=True)
    assert 'id="unit-access-notes"' in tenant_page and "Key box 4321" in tenant_page
    assert units.access_notes(db.session.get(Address, unit.id)) == "Key box 4321 by the gate"
    assert bob.id != jane.id


def test_book_next_tenant_into_a_unit_with_a_pending_move_out(app, court, office):
    from backhaul.core.accounts.scheduling import run_due_events

    unit = _unit("102")
    unit.serviceable = True
    jane = moves.onboard_tenant({"name": "Jane Doe", "email": "jane@example.com",
                                 "address_id": unit.id})
    db.session.commit()
    # no move-out yet: refused
    refused = office.post_form(f"/accounts/addresses/{unit.id}/book", name="Bob Roe",
                               email="bob@example.com", on=date.today().isoformat(),
                               account_type="residential")
    assert "no move-out scheduled" in refused.get_data(as_text=True)
    later = date.today() + timedelta(days=10)
    moves.schedule_move_out(jane, {"on": later.isoformat()})
    db.session.commit()
    too_early = office.post_form(f"/accounts/addresses/{unit.id}/book", name="Bob Roe",
                                 email="bob@example.com",
                                 on=(later - timedelta(days=1)).isoformat(),
                                 account_type="residential")
    assert "on or after that day" in too_early.get_data(as_text=True)
    booked = office.post_form(f"/accounts/addresses/{unit.id}/book", name="Bob Roe",
                              email="bob@example.com", on=later.isoformat(),
                              account_type="residential")
    assert f"moves in on {later.isoformat()}" in booked.get_data(as_text=True)
    bob = db.session.scalar(sa.select(Account).where(Account.name == "Bob Roe"))
    assert bob.status.key == "prospect" and bob.address_id is None
    building_page = office.get(f"/accounts/buildings/{court.id}").get_data(as_text=True)
    assert "Bob Roe" in building_page and f"moves out {later.isoformat()}" in building_page
    # both events come due: the move-out frees the unit, then Bob moves in
    for event in db.session.scalars(sa.select(ScheduledEvent)):
        event.due_at = event.due_at - timedelta(days=11)
        event.next_attempt_at = event.due_at
    db.session.commit()
    run_due_events()
    db.session.expire_all()
    bob = db.session.get(Account, bob.id)
    assert bob.address_id == unit.id and bob.status.key == "active"
    assert addresses.current_tenant(db.session.get(Address, unit.id)).id == bob.id


def test_units_over_graphql(app, court, staff_user, api_token):
    from accounts_gql import ALL_PERMISSIONS, Gql

    gql = Gql(app.test_client(), api_token(staff_user(ALL_PERMISSIONS), "full"))
    ids = [str(_unit(u).id) for u in ("101", "102")]
    done = gql("""mutation($b: ID!, $ids: [ID!]!) { setUnitsServiceability(buildingId: $b,
        addressIds: $ids, input: {serviceable: true, technology: "fiber", maxDownMbps: 500}) {
        ok errors { field messages } units { unit serviceable technology } } }""",
               b=str(court.id), ids=ids)["setUnitsServiceability"]
    assert done["units"] == [{"unit": "101", "serviceable": True, "technology": "fiber"},
                             {"unit": "102", "serviceable": True, "technology": "fiber"}]
    bad = gql("""mutation($b: ID!, $ids: [ID!]!) { setUnitsServiceability(buildingId: $b,
        addressIds: $ids, input: {maxDownMbps: -5}) { ok errors { field } } }""",
              b=str(court.id), ids=ids)["setUnitsServiceability"]
    assert bad == {"ok": False, "errors": [{"field": "maxDownMbps"}]}
    notes = gql("""mutation($a: ID!) { setUnitAccessNotes(addressId: $a, notes: "Gate 4321") {
        ok address { accessNotes } } }""", a=ids[0])["setUnitAccessNotes"]
    assert notes == {"ok": True, "address": {"accessNotes": "Gate 4321"}}
    jane = moves.onboard_tenant({"name": "Jane Doe", "email": "jane@example.com",
                                 "address_id": int(ids[0])})
    on = date.today() + timedelta(days=5)
    moves.schedule_move_out(jane, {"on": on.isoformat()})
    db.session.commit()
    booked = gql("""mutation($a: ID!, $on: Date!) { bookNextTenant(input: {addressId: $a,
        name: "Bob Roe", email: "bob@example.com", on: $on}) { ok errors { field messages }
        account { name } event { action } } }""", a=ids[0], on=on.isoformat())["bookNextTenant"]
    assert booked == {"ok": True, "errors": [], "account": {"name": "Bob Roe"},
                      "event": {"action": "move_in"}}
