"""The field-jobs lists on ``Query`` are connections (issue 21): pages walk with first/after,
totalCount counts every match, a filter narrows, a sort orders, an unknown sort is refused;
a page of jobs with their type, technician, tasks and items costs the same statements as a
page of one. Expectations come from the rows seeded here."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backhaul.sdk import db

PERMS = ["scheduling.job.view", "scheduling.job.manage", "scheduling.settings.manage"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post(client, token, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).get_json()


@pytest.fixture
def seeded(app, field, staff_user, api_token):
    """Job types Installation (90), Repair (30), Survey (45); technicians Alex Fielder, Sam
    Weekend and (inactive) Casey Cover; jobs j1 (done, Alex), j2 (new), j3 (booked, Alex)."""
    from backhaul.plugins.scheduling import jobs
    from backhaul.plugins.scheduling.models import Job, JobTask

    install, alex, _sam = field
    jobs.save_job_type({"name": "Repair", "durationMinutes": 30})
    jobs.save_job_type({"name": "Survey", "durationMinutes": 45})
    casey = jobs.save_technician({"name": "Casey Cover"})
    casey.active = False
    for i, (notes, status, tech) in enumerate((("j1", "done", alex), ("j2", "new", None),
                                               ("j3", "booked", alex))):
        job = Job(type_id=install.id, status=status, notes=notes,
                  technician_id=tech.id if tech else None, created_at=T0 + timedelta(hours=i),
                  starts_at=T0 + timedelta(days=i) if tech else None)
        job.tasks = [JobTask(name="Mount the ONT", required=True)]
        db.session.add(job)
    db.session.commit()
    return app.test_client(), api_token(staff_user(PERMS), "full"), {"alex": str(alex.id)}


# root field, filter type, node key, default order, (filter, expected), (sort, expected)
CASES = [
    ("schedulingJobs", "SchedulingJobFilter", "notes", ["j3", "j2", "j1"],
     ({"technicianId": "alex"}, ["j3", "j1"]), ("createdAt", ["j1", "j2", "j3"])),
    ("schedulingJobTypes", "SchedulingJobTypeFilter", "name",
     ["Installation", "Repair", "Survey"], ({"skill": "fiber"}, ["Installation"]),
     ("durationMinutes", ["Repair", "Survey", "Installation"])),
    ("schedulingTechnicians", "SchedulingTechnicianFilter", "name",
     ["Alex Fielder", "Casey Cover", "Sam Weekend"],
     ({"active": True}, ["Alex Fielder", "Sam Weekend"]),
     ("-name", ["Sam Weekend", "Casey Cover", "Alex Fielder"])),
]


@pytest.mark.parametrize("root, filter_type, key, default, filtered, sorted_", CASES,
                         ids=[c[0] for c in CASES])
def test_lists_are_connections(seeded, root, filter_type, key, default, filtered, sorted_):
    client, token, ids = seeded
    query = f"""query($first: Int, $after: String, $filter: {filter_type}, $sort: String) {{
      {root}(first: $first, after: $after, filter: $filter, sort: $sort) {{
        totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {key} }} }} }}"""

    def page(**variables):
        body = post(client, token, query, **variables)
        assert "errors" not in body, body
        return body["data"][root]

    first = page(first=2)
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    rest = page(first=2, after=first["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [n[key] for n in first["nodes"] + rest["nodes"]] == default

    where, expected = filtered
    narrowed = page(filter={k: ids.get(v, v) if isinstance(v, str) else v
                            for k, v in where.items()})
    assert [n[key] for n in narrowed["nodes"]] == expected
    assert narrowed["totalCount"] == len(expected)

    sort, expected = sorted_
    assert [n[key] for n in page(sort=sort)["nodes"]] == expected

    refused = post(client, token, query, sort="password")
    assert "Cannot sort by 'password'" in refused["errors"][0]["message"]


def test_jobs_filter_by_start_and_refuse_a_bad_status(seeded):
    client, token, _ = seeded
    body = post(client, token, """query($from: DateTime) { schedulingJobs(filter: {from: $from})
      { nodes { notes } } }""", **{"from": (T0 + timedelta(days=1)).isoformat()})
    assert [n["notes"] for n in body["data"]["schedulingJobs"]["nodes"]] == ["j3"]
    body = post(client, token, '{ schedulingJobs(filter: {status: "lost"}) { totalCount } }')
    assert "status" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_page_of_jobs_loads_nested_fields_in_constant_statements(seeded):
    client, token, _ = seeded
    query = """query($first: Int) { schedulingJobs(first: $first) { nodes {
      notes type { name } technician { name } tasks { name } items { label } } } }"""

    def statements(first: int) -> list[str]:
        seen = []

        def count(_conn, _cursor, statement, *_args):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            body = post(client, token, query, first=first)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert len(body["data"]["schedulingJobs"]["nodes"]) == first
        return seen

    statements(1)  # the first request of a token loads its roles
    one = statements(1)
    three = statements(3)
    assert len(three) == len(one), "\n---\n".join(three)
