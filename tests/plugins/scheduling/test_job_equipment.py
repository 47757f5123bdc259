"""Equipment on jobs, through the inventory plugin's api: an item picked from stock is
installed at the job's account when the job completes, one the account holds is collected
back into a location; the inventory's own records (holder, status, movement with the job as
reference) are the oracle. A completion that cannot move an item is refused, names it, and
moves nothing; the pages and GraphQL do the same behind scheduling.job.manage."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db

ROUTER_FIELDS = [{"label": "Serial", "key": "serial", "type": "serial", "required": True}]


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["notifications", "tickets", "inventory", "scheduling"],
                           plugin_settings={"notifications": {"retry_base_seconds": 0}})
    with application.app_context():
        yield application


@pytest.fixture
def stock(app):
    from types import SimpleNamespace

    from backhaul.plugins.inventory import catalogue
    from backhaul.plugins.inventory import stock as inv

    wh = catalogue.create_location("WH1", "Main warehouse", "warehouse")
    van = catalogue.create_location("VAN-1", "Van 1", "van")
    maker = catalogue.create_manufacturer("Acme Networks")
    ont = catalogue.create_model(maker.id, "Fiber ONT 2", "router", ROUTER_FIELDS)
    a, b = inv.receive(ont.id, wh.id, [{"serial": "ONT-0001"}, {"serial": "ONT-0002"}])
    db.session.commit()
    return SimpleNamespace(wh=wh, van=van, ont=ont, a=a, b=b)


def _monday_9() -> datetime:
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=UTC)


def _ready(job, alex):
    from backhaul.plugins.scheduling import jobs

    jobs.book(job, alex.id, _monday_9())
    for task in job.tasks:
        jobs.set_task(job, task.id, True)


def _item(item_id):
    from backhaul.plugins.inventory.models import Item

    db.session.expire_all()
    return db.session.get(Item, item_id)


def _movements(item_id):
    from backhaul.plugins.inventory.models import Movement

    return db.session.scalars(sa.select(Movement).where(Movement.item_id == item_id)
                              .order_by(Movement.id)).all()


def test_completing_an_install_job_moves_the_item_to_the_account(app, field, ticket, stock):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    row = jobs.add_item(job, stock.a.id, "install")
    assert row.label == f"#{stock.a.id} Acme Networks Fiber ONT 2 · serial ONT-0001"
    _ready(job, alex)
    db.session.commit()
    assert _item(stock.a.id).status == "in_stock"  # nothing moves before completion

    jobs.complete(job)
    db.session.commit()
    item = _item(stock.a.id)
    assert (item.status, item.holder_type, item.holder_id, item.location_id) == (
        "installed", "account", ticket.account_id, None)
    last = _movements(stock.a.id)[-1]
    assert (last.action, last.reference) == ("install", f"job:{job.id}")
    assert job.items[0].done
    assert _item(stock.b.id).status == "in_stock"  # the other one stays


def test_collecting_brings_the_item_back_into_the_chosen_location(app, field, ticket, stock):
    from backhaul.plugins.inventory import stock as inv
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    inv.assign(stock.b, "account", ticket.account_id, install=True)
    db.session.commit()
    job = jobs.create_job({"typeId": install.id, "accountId": ticket.account_id})
    with pytest.raises(ValidationError) as refused:
        jobs.add_item(job, stock.b.id, "collect")
    assert "locationId" in refused.value.messages
    with pytest.raises(ValidationError) as refused:
        jobs.add_item(job, stock.a.id, "collect", stock.van.id)
    assert refused.value.messages == {"itemId": [f"item #{stock.a.id} is not held by the "
                                                 "job's account"]}
    jobs.add_item(job, stock.b.id, "collect", stock.van.id)
    _ready(job, alex)
    jobs.complete(job)
    db.session.commit()
    item = _item(stock.b.id)
    assert (item.status, item.holder_type, item.location_id) == ("in_stock", None,
                                                                 stock.van.id)
    assert _movements(stock.b.id)[-1].reference == f"job:{job.id}"


def test_an_item_gone_from_stock_refuses_the_completion_and_nothing_moves(app, field, ticket,
                                                                          stock):
    from backhaul.plugins.inventory import stock as inv
    from backhaul.plugins.scheduling import jobs
    from backhaul.plugins.scheduling.models import Job

    install, alex, _ = field
    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    jobs.add_item(job, stock.a.id, "install")
    jobs.add_item(job, stock.b.id, "install")
    with pytest.raises(ValidationError) as twice:
        jobs.add_item(job, stock.a.id, "install")
    assert "on this job already" in twice.value.messages["itemId"][0]
    _ready(job, alex)
    db.session.commit()
    inv.retire(_item(stock.b.id))  # someone scrapped it meanwhile
    db.session.commit()
    before = len(_movements(stock.a.id))

    with pytest.raises(ValidationError) as refused:
        jobs.complete(job)
    db.session.rollback()
    [message] = refused.value.messages["items"]
    assert message.startswith(f"install #{stock.b.id} Acme Networks Fiber ONT 2")
    assert "not in stock" in message
    assert _item(stock.a.id).status == "in_stock" and len(_movements(stock.a.id)) == before
    assert db.session.get(Job, job.id).status == "booked"


def test_pages_and_graphql_put_equipment_on_a_job(app, field, ticket, stock, staff_user, login,
                                                  csrf_token, api_token):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    db.session.commit()
    client = app.test_client()
    login(client, staff_user(["scheduling.job.view", "scheduling.job.manage", "inventory.view"]))
    page = client.get(f"/scheduling/jobs/{job.id}?stock=ONT-0002").get_data(as_text=True)
    assert "ONT-0002" in page and "ONT-0001" not in page  # the stock search
    added = client.post(f"/scheduling/jobs/{job.id}/items", data={
        "csrf_token": csrf_token(client), "itemId": str(stock.b.id), "action": "install"},
        follow_redirects=True).get_data(as_text=True)
    assert "will be installed when the job is completed" in added
    assert f"#{stock.b.id} Acme Networks Fiber ONT 2" in added
    bad = client.post(f"/scheduling/jobs/{job.id}/items", data={
        "csrf_token": csrf_token(client), "itemId": "nope", "action": "install"},
        follow_redirects=True).get_data(as_text=True)
    assert "Equipment: there is no item nope" in bad

    token = api_token(staff_user(["scheduling.job.view", "scheduling.job.manage",
                                  "inventory.view"]), "full")
    query = ("mutation($id: ID!, $item: ID!) { schedulingAddJobItem(id: $id, itemId: $item, "
             "action: \"install\") { ok errors { field messages } job { items { itemId action "
             "done } } } }")
    out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": query, "variables": {"id": str(job.id), "item": str(stock.a.id)}}).get_json()
    assert out["data"]["schedulingAddJobItem"]["job"]["items"] == [
        {"itemId": str(stock.b.id), "action": "install", "done": False},
        {"itemId": str(stock.a.id), "action": "install", "done": False}]
    again = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": query, "variables": {"id": str(job.id), "item": str(stock.a.id)}}).get_json()
    assert again["data"]["schedulingAddJobItem"]["errors"][0]["field"] == "itemId"
    reader = api_token(staff_user(["scheduling.job.view"]), "full")
    denied = client.post("/graphql", headers={"Authorization": f"Bearer {reader}"}, json={
        "query": query, "variables": {"id": str(job.id), "item": str(stock.a.id)}}).get_json()
    assert denied.get("errors")


def test_without_inventory_view_the_stock_is_neither_shown_nor_pickable(
        app, field, ticket, stock, staff_user, login, csrf_token, api_token):
    """Managing jobs does not grant seeing the stock: the page offers no items (no serials),
    and the form and the mutation refuse to put one on the job, with the reason."""
    from backhaul.plugins.scheduling import jobs

    install, _, _ = field
    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    db.session.commit()
    dispatcher = staff_user(["scheduling.job.view", "scheduling.job.manage"])
    client = app.test_client()
    login(client, dispatcher)
    page = client.get(f"/scheduling/jobs/{job.id}").get_data(as_text=True)
    assert "ONT-0001" not in page and "ONT-0002" not in page
    assert "needs the inventory.view permission" in page
    refused = client.post(f"/scheduling/jobs/{job.id}/items", data={
        "csrf_token": csrf_token(client), "itemId": str(stock.a.id), "action": "install"},
        follow_redirects=True).get_data(as_text=True)
    assert "needs the inventory.view permission" in refused
    out = client.post("/graphql", headers={
        "Authorization": f"Bearer {api_token(dispatcher, 'full')}"}, json={
        "query": "mutation($id: ID!, $item: ID!) { schedulingAddJobItem(id: $id, itemId: $item,"
                 " action: \"install\") { ok errors { field messages } } }",
        "variables": {"id": str(job.id), "item": str(stock.a.id)}}).get_json()
    payload = out["data"]["schedulingAddJobItem"]
    assert payload["ok"] is False and payload["errors"][0]["field"] == "itemId"
    db.session.expire_all()
    assert job.items == [], "nothing was put on the job"
