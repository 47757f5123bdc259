"""The offline map: buildings ranked by the tickets and jobs of their tenants, drawn as SVG
from the addresses' coordinates (no tile server), tickets shown only to those who may."""
from __future__ import annotations

from backhaul.sdk import db


def _building_with_work(field, ticket_group):
    from backhaul.plugins.scheduling import jobs
    from backhaul.plugins.tickets import desk
    from backhaul.sdk.accounts import create_account, create_address, create_building

    maple = create_building({"name": "Maple Court", "street": "12 Maple St", "city": "Springfield",
                             "country": "US", "latitude": "39.7817", "longitude": "-89.6501"})
    oak = create_building({"name": "Oak House", "street": "3 Oak Ave", "city": "Springfield",
                           "country": "US", "latitude": "39.8000", "longitude": "-89.6000"})
    units = {}
    for building, unit in ((maple, "1"), (maple, "4"), (oak, "2")):
        address = create_address({"street": building.street, "unit": unit,
                                  "city": "Springfield", "country": "US",
                                  "building_id": building.id})
        units[(building.name, unit)] = create_account(name=f"{building.name} {unit}",
                                                      address_id=address.id)
    db.session.flush()
    for key, count in (((("Maple Court", "4")), 3), (("Maple Court", "1"), 1),
                       (("Oak House", "2"), 1)):
        for n in range(count):
            desk.open_ticket({"subject": f"Issue {n}", "groupId": ticket_group.id,
                              "accountId": units[key].id})
    jobs.create_job({"typeId": field[0].id, "accountId": units[("Oak House", "2")].id})
    db.session.commit()


def test_busiest_buildings_first_with_units(app, field, staff_user, login):
    from backhaul.plugins.tickets import config

    _building_with_work(field, config.save_group("Support"))
    client = app.test_client()
    login(client, staff_user(["scheduling.job.view", "tickets.ticket.view"]))
    page = client.get("/scheduling/map").get_data(as_text=True)
    assert '<svg id="map"' in page and "Maple Court" in page
    assert "https://" not in page and "http://" not in page.split("<svg", 1)[1]  # offline
    assert page.index("Maple Court") < page.index("Oak House")
    assert "4 (3), 1 (1)" in page
    assert page.count("<circle") == 2
    viewer = app.test_client()
    login(viewer, staff_user(["scheduling.job.view"]))
    jobs_only = viewer.get("/scheduling/map").get_data(as_text=True)
    assert "Maple Court" not in jobs_only and "Oak House" in jobs_only


def test_map_over_graphql(app, field, staff_user, api_token):
    from backhaul.plugins.tickets import config

    _building_with_work(field, config.save_group("Support"))
    token = api_token(staff_user(["scheduling.job.view", "tickets.ticket.view"]), "read")
    body = app.test_client().post("/graphql", json={"query": """{ schedulingMap {
      label tickets openTickets jobs latitude } }"""},
                                  headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["data"]["schedulingMap"] == [
        {"label": "Maple Court", "tickets": 4, "openTickets": 4, "jobs": 0,
         "latitude": 39.7817},
        {"label": "Oak House", "tickets": 1, "openTickets": 1, "jobs": 1, "latitude": 39.8}]


def test_projection_puts_east_right_and_north_up(app):
    from backhaul.plugins.scheduling.mapping import HEIGHT, PAD, WIDTH, Place, _project

    west_south = Place("a", "A", 39.0, -90.0)
    east_north = Place("b", "B", 40.0, -89.0)
    _project([west_south, east_north])
    assert west_south.x == PAD and east_north.x > west_south.x
    assert east_north.y == PAD and west_south.y == HEIGHT - PAD
    assert 0 <= east_north.x <= WIDTH
