"""Staff pages: the lifecycle through forms, errors beside fields, permissions and CSRF."""
import io

import pytest
import sqlalchemy as sa
from accounts_gql import ALL_PERMISSIONS

from backhaul.core.db import db
from backhaul.sdk.accounts import Account, Address, Building


@pytest.fixture
def staff(app, staff_user, login, csrf_token):
    client = app.test_client()
    login(client, staff_user(ALL_PERMISSIONS))
    token = csrf_token(client)

    def post(url, data=None, **kwargs):
        return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)

    client.post_form = post
    return client


def test_pages_render(app, staff, building):
    unit = building.addresses[0]
    for url in ("/accounts/", "/accounts/new", "/accounts/addresses/", "/accounts/addresses/new",
                "/accounts/addresses/import", "/accounts/buildings/", "/accounts/buildings/new",
                f"/accounts/buildings/{building.id}", f"/accounts/addresses/{unit.id}",
                f"/accounts/addresses/{unit.id}/onboard",
                f"/accounts/addresses/?building={building.id}&occupied=no&q=maple"):
        response = staff.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_lifecycle_through_forms(app, staff):
    response = staff.post_form("/accounts/buildings/new", {
        "name": "Birch House", "street": "7 Birch Rd", "city": "Springfield", "region": "IL"})
    assert response.status_code == 302
    building = db.session.scalar(sa.select(Building))
    response = staff.post_form(f"/accounts/buildings/{building.id}/units", {
        "floors": "1-2", "units_per_floor": "3", "unit_format": "{floor}{unit:02d}",
        "serviceable": "y", "technology": "fiber"}, follow_redirects=True)
    assert b"6 unit(s) created" in response.data and b"201" in response.data
    unit = db.session.scalar(sa.select(Address).where(Address.unit == "101"))

    bad = staff.post_form(f"/accounts/addresses/{unit.id}/onboard",
                          {"name": "Jane", "email": "not-an-email", "account_type": "residential"})
    assert bad.status_code == 422 and b"is not a valid e-mail address" in bad.data
    assert b'aria-invalid="true"' in bad.data
    response = staff.post_form(f"/accounts/addresses/{unit.id}/onboard", {
        "name": "Jane Doe", "email": "jane@example.com", "phone": "4155552671",
        "account_type": "residential"})
    assert response.status_code == 302
    jane = db.session.scalar(sa.select(Account))
    taken = staff.post_form(f"/accounts/addresses/{unit.id}/onboard", {
        "name": "Bob", "email": "bob@example.com", "account_type": "residential"})
    assert taken.status_code == 422 and b"is occupied by account" in taken.data

    staff.post_form(f"/accounts/{jane.id}/notes", {"body": "Gate code **4321**",
                                                   "category": "access", "pinned": "y"})
    staff.post_form(f"/accounts/{jane.id}/calls", {"direction": "inbound", "summary": "Hello",
                                                   "duration_minutes": "2"})
    page = staff.get(f"/accounts/{jane.id}").data.decode()
    assert 'id="pinned-notes"' in page and "<strong>4321</strong>" in page
    assert page.index("pinned-notes") < page.index('id="contacts"')
    assert "+14155552671" in page and "Inbound call" in page

    past = staff.post_form(f"/accounts/{jane.id}/move-out", {"on": "2001-01-01",
                                                              "status": "moved_out"})
    assert past.status_code == 422 and b"in the past" in past.data
    from backhaul.core.accounts.scheduling import run_due_events
    from backhaul.core.db import utcnow

    response = staff.post_form(f"/accounts/{jane.id}/move-out", {
        "on": utcnow().date().isoformat(), "status": "moved_out"}, follow_redirects=True)
    assert b"Move-out scheduled" in response.data
    assert run_due_events() == {"done": 1}
    response = staff.post_form(f"/accounts/addresses/{unit.id}/onboard", {
        "name": "Bob", "email": "bob@example.com", "account_type": "residential"},
        follow_redirects=True)
    assert b"Bob onboarded" in response.data
    history = staff.get(f"/accounts/addresses/{unit.id}").data.decode()
    assert "Jane Doe" in history and "move out" in history and 'id="current-tenant"' in history


def test_csv_import_page_reports_rows(app, staff):
    rows = "street,unit,city\n" + "".join(f"1 Oak St,{n},X\n" for n in range(1, 6))
    bad = rows.replace("1 Oak St,3,X", "1 Oak St,3,X,Y")
    response = staff.post_form("/accounts/addresses/import",
                               {"file": (io.BytesIO(bad.encode()), "units.csv")},
                               content_type="multipart/form-data")
    assert response.status_code == 422 and b"<td>4</td>" in response.data
    assert db.session.scalar(sa.select(sa.func.count(Address.id))) == 0
    latin = staff.post_form("/accounts/addresses/import",
                            {"file": (io.BytesIO("street,city\nRue Élysée,Paris\n".encode("latin-1")),
                                      "x.csv")}, content_type="multipart/form-data")
    assert latin.status_code == 422 and b"not UTF-8 encoded" in latin.data
    response = staff.post_form("/accounts/addresses/import",
                               {"file": (io.BytesIO(rows.encode()), "units.csv")},
                               content_type="multipart/form-data", follow_redirects=True)
    assert b"Imported 5 addresses" in response.data


def test_permissions_and_csrf(app, staff_user, login, building):
    anonymous = app.test_client()
    assert anonymous.get("/accounts/").status_code in (302, 401)
    viewer = app.test_client()
    login(viewer, staff_user(["accounts.account.view"]))
    assert viewer.get("/accounts/").status_code == 200
    assert viewer.get("/accounts/addresses/").status_code == 403
    assert viewer.get("/accounts/new").status_code == 403
    page = viewer.get("/accounts/").data
    assert b"New account" not in page
    no_csrf = app.test_client()
    login(no_csrf, staff_user(ALL_PERMISSIONS))
    response = no_csrf.post("/accounts/new", data={"name": "X", "account_type": "residential"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_global_search_finds_accounts_and_addresses(app, staff, staff_user, login, building):
    from backhaul.sdk.accounts import create_account

    unit = building.addresses[0]
    account = create_account(name="Zelda Quartermain", address_id=unit.id)
    db.session.commit()
    page = staff.get("/search?q=Quartermain").data.decode()
    assert f"/accounts/{account.id}" in page and "Zelda Quartermain" in page
    page = staff.get("/search?q=Maple 102").data.decode()
    assert f"/accounts/addresses/{building.addresses[1].id}" in page
    blind = app.test_client()
    login(blind, staff_user(["accounts.address.view"]))
    page = blind.get("/search?q=Quartermain").data.decode()
    assert "Zelda" not in page


def test_status_configuration_page(app, staff):
    assert staff.get("/accounts/statuses").status_code == 200
    bad = staff.post_form("/accounts/statuses", {"key": "Bad Key", "name": "X", "colour": "red",
                                                 "meaning": "sleeping"})
    assert bad.status_code == 422
    assert b"lower-case letters" in bad.data and b"hex colour" in bad.data
    response = staff.post_form("/accounts/statuses", {
        "key": "vacation_hold", "name": "Vacation hold", "colour": "#0ea5e9",
        "meaning": "inactive", "position": "45"}, follow_redirects=True)
    assert b"Status Vacation hold saved" in response.data
    from backhaul.sdk.accounts import get_status

    assert get_status("vacation_hold").meaning == "inactive"
