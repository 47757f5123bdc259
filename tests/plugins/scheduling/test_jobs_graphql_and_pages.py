"""Field jobs over GraphQL (field errors for every refusal) and through the staff pages
(422s beside the field, the calendar, the account timeline behind its permission)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backhaul.sdk import db

PERMS = ["scheduling.job.view", "scheduling.job.manage", "scheduling.settings.manage",
         "accounts.account.view", "tickets.ticket.view"]


def gql(client, token, query, **variables):
    body = client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).get_json()
    assert "errors" not in body, body
    return body["data"]


def _errors(payload) -> dict:
    assert payload["ok"] is False, payload
    return {e["field"]: e["messages"] for e in payload["errors"]}


def next_monday(hour: int) -> str:
    today = datetime.now(UTC).date()
    day = today + timedelta(days=7 - today.weekday())
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


@pytest.fixture
def token(app, staff_user, api_token):
    return api_token(staff_user(PERMS), "full")


def test_the_whole_job_over_graphql(app, token, field, ticket):
    install, alex, sam = field
    client = app.test_client()
    bad = gql(client, token, """mutation { schedulingCreateJob(input: {typeId: "999"}) {
      ok errors { field messages } } }""")["schedulingCreateJob"]
    assert "typeId" in _errors(bad)
    made = gql(client, token, """mutation($t: ID!, $k: ID) { schedulingCreateJob(input:
      {typeId: $t, ticketId: $k}) { ok job { id status accountId tasks { id name required } }
      } }""", t=str(install.id), k=str(ticket.id))["schedulingCreateJob"]
    assert made["ok"] and made["job"]["accountId"] == str(ticket.account_id)
    job_id, tasks = made["job"]["id"], made["job"]["tasks"]
    book = """mutation($id: ID!, $tech: ID!, $at: DateTime!) { schedulingBookJob(id: $id,
      technicianId: $tech, startsAt: $at) { ok errors { field messages } job { status
      startsAt endsAt technician { name } } } }"""
    off = gql(client, token, book, id=job_id, tech=str(sam.id), at=next_monday(9))
    assert "technicianId" in _errors(off["schedulingBookJob"])  # lacks the skill
    ok = gql(client, token, book, id=job_id, tech=str(alex.id), at=next_monday(9))
    assert ok["schedulingBookJob"]["job"]["technician"] == {"name": "Alex Fielder"}
    other = gql(client, token, """mutation($t: ID!, $a: ID!) { schedulingCreateJob(input:
      {typeId: $t, accountId: $a}) { job { id } } }""", t=str(install.id),
                a=str(ticket.account_id))["schedulingCreateJob"]["job"]["id"]
    clash = gql(client, token, book, id=other, tech=str(alex.id), at=next_monday(10))
    assert "is booked for job" in " ".join(_errors(clash["schedulingBookJob"])["startsAt"])
    early = gql(client, token, """mutation($id: ID!) { schedulingCompleteJob(id: $id) {
      ok errors { field messages } } }""", id=job_id)["schedulingCompleteJob"]
    assert "required tasks are open" in " ".join(_errors(early)["tasks"])
    for task in tasks:
        if task["required"]:
            gql(client, token, """mutation($id: ID!, $task: ID!) { schedulingSetTask(id: $id,
              taskId: $task, done: true) { ok } }""", id=job_id, task=task["id"])
    done = gql(client, token, """mutation($id: ID!) { schedulingCompleteJob(id: $id) {
      ok job { status } } }""", id=job_id)["schedulingCompleteJob"]
    assert done == {"ok": True, "job": {"status": "done"}}
    listed = gql(client, token, """{ schedulingJobs(first: 10, filter: {status: "done"}) {
      totalCount } schedulingTechnicians { nodes { name workStart workEnd workDays } } }""")
    assert listed["schedulingJobs"]["totalCount"] == 1
    assert listed["schedulingTechnicians"]["nodes"][0] == {"name": "Alex Fielder", "workStart": "08:00",
                                                  "workEnd": "17:00", "workDays": "12345"}


def test_set_up_over_graphql_refuses_bad_input(app, token, field):
    client = app.test_client()
    bad = gql(client, token, """mutation { schedulingSaveJobType(input: {name: "Repair",
      durationMinutes: 5000}) { ok errors { field messages } } }""")["schedulingSaveJobType"]
    assert "durationMinutes" in _errors(bad)
    bad = gql(client, token, """mutation { schedulingSaveTechnician(input: {name: "Kai",
      workStart: "9am"}) { ok errors { field messages } } }""")["schedulingSaveTechnician"]
    assert "workStart" in _errors(bad)
    good = gql(client, token, """mutation { schedulingSaveJobType(input: {name: "Repair",
      tasks: [{name: "Find the fault", required: true}]}) { ok jobType { durationMinutes
      tasks { name required } } } }""")["schedulingSaveJobType"]
    assert good["jobType"] == {"durationMinutes": 60,
                               "tasks": [{"name": "Find the fault", "required": True}]}


def test_pages_and_the_account_timeline(app, staff_user, login, csrf_token, field, ticket):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    client = app.test_client()
    login(client, staff_user(PERMS))
    form = {"csrf_token": csrf_token(client)}
    bad = client.post("/scheduling/jobs/new", data={**form, "typeId": str(install.id),
                                                    "accountNumber": "NOPE"})
    assert bad.status_code == 422 and "there is no such account" in bad.get_data(as_text=True)
    made = client.post("/scheduling/jobs/new", data={**form, "typeId": str(install.id),
                                                     "ticketId": str(ticket.id)})
    assert made.status_code == 302
    job_id = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    refused = client.post(f"/scheduling/jobs/{job_id}/book", data={
        **form, "technicianId": str(alex.id), "startsAt": "not a time"}, follow_redirects=True)
    assert "Time: a date and time" in refused.get_data(as_text=True)
    bad = client.post("/scheduling/setup/technicians", data={**form, "name": "Q",
                                                             "workDays": "9"})
    assert bad.status_code == 422 and "ISO weekdays" in bad.get_data(as_text=True)
    job = db.session.get(jobs.Job, job_id)
    jobs.book(job, alex.id, datetime.fromisoformat(next_monday(9)))
    db.session.commit()
    week = client.get(f"/scheduling/calendar?view=week&date={next_monday(9)[:10]}")
    assert "09:00–10:30" in week.get_data(as_text=True)
    account_page = client.get(f"/accounts/{ticket.account_id}").get_data(as_text=True)
    assert f"Job #{job_id} Installation: booked" in account_page
    other = app.test_client()
    login(other, staff_user(["accounts.account.view"]))
    assert f"Job #{job_id}" not in other.get(f"/accounts/{ticket.account_id}").get_data(
        as_text=True)


def test_a_drop_returns_only_to_a_calendar_page_of_this_site(app, staff_user, login,
                                                              csrf_token, field, ticket):
    from backhaul.plugins.scheduling import jobs

    install, alex, _ = field
    client = app.test_client()
    login(client, staff_user(PERMS))
    job = jobs.create_job({"typeId": install.id, "ticketId": ticket.id})
    db.session.commit()
    form = {"csrf_token": csrf_token(client), "technicianId": str(alex.id),
            "startsAt": next_monday(9)[:16]}
    for hostile in ("https://evil.example/scheduling/calendar", "//evil.example/x",
                    "/scheduling/calendar/../../evil", "/accounts/1"):
        refused = client.post(f"/scheduling/jobs/{job.id}/book",
                              data={**form, "startsAt": "x", "next": hostile})
        assert refused.headers["Location"].endswith(f"/scheduling/jobs/{job.id}"), hostile
    moved = client.post(f"/scheduling/jobs/{job.id}/book", data={
        **form, "next": "/scheduling/calendar?view=week"})
    assert moved.headers["Location"].endswith("/scheduling/calendar?view=week")


@pytest.mark.parametrize("query, expected", [
    ('mutation { schedulingSaveJobType(input: {name: "Repair", skill: "a\\u0000"}) '
     '{ ok errors { field } } }', "skill"),
    ('mutation { schedulingSaveTechnician(input: {name: "Casey", skills: ["a\\u0000"]}) '
     '{ ok errors { field } } }', "skills"),
    ('mutation($t: ID!, $a: ID) { schedulingCreateJob(input: {typeId: $t, accountId: $a, '
     'notes: "a\\u0000"}) { ok errors { field } } }', "notes"),
    ('query { schedulingTechnicians(filter: {search: "\\u0000"}) { totalCount } }', None),
])
def test_a_nul_character_is_refused_not_a_server_error(app, token, field, ticket, query,
                                                       expected):
    """Found by the fuzzer: PostgreSQL refuses NUL in text, which answered INTERNAL_ERROR."""
    body = app.test_client().post("/graphql", json={"query": query, "variables": {
        "t": str(field[0].id), "a": str(ticket.account_id)}},
        headers={"Authorization": f"Bearer {token}"}).get_json()
    if expected is None:  # a list filter: a client error
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        return
    [payload] = body["data"].values()
    assert payload["ok"] is False
    assert [e["field"] for e in payload["errors"]] == [expected]
