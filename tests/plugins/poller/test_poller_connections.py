"""The poller lists as GraphQL connections: pages walk with first/after, totalCount, a
filter, a published sort, an unknown sort refused, bad filter values answered as errors."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from connection_checks import gql, refused_sort, statements, walk

from backhaul.sdk import db, utcnow


@pytest.fixture
def seeded(app):
    from backhaul.plugins.poller.models import Affected, Host, Sample, TargetState, Template

    now = utcnow()
    db.session.add_all([Template(name=n, oids=[]) for n in ("snmp-core", "ping-cpe", "ping-ap")])
    db.session.add_all([TargetState(target=t, name=n, state=s, levels={}) for t, n, s in (
        ("device:2", "core-2", "down"), ("device:1", "core-1", "up"),
        ("host:10.0.0.5", "10.0.0.5", "down"), ("item:9", "cpe-9", "warning"))])
    db.session.add_all([Sample(target="device:1", metric="icmp.rtt", at=now - timedelta(hours=h),
                               value=float(h)) for h in (30, 5, 3, 1)])
    db.session.add(Sample(target="device:1", metric="icmp.loss", at=now, value=0.0))
    db.session.add_all([Affected(target=t, account_id=a, subscriptions=[], since=now - s,
                                 notified_at=n) for t, a, s, n in (
        ("device:2", 11, timedelta(hours=2), now), ("device:2", 12, timedelta(hours=1), None),
        ("device:3", 13, timedelta(hours=3), None))])
    db.session.add_all([Host(address=a, subnet=s, first_seen=now, last_seen=now - timedelta(
        minutes=m)) for a, s, m in (("10.0.1.2", "10.0.1.0/29", 1), ("10.0.0.3", "10.0.0.0/29", 3),
                                    ("10.0.0.2", "10.0.0.0/29", 2))])
    db.session.commit()


CASES = [
    # field, key, extra arguments, default order, (filter, expected), (sort, expected)
    ("pollerTemplates", "name", "", ["ping-ap", "ping-cpe", "snmp-core"],
     ({"search": "PING"}, ["ping-ap", "ping-cpe"]),
     ("-name", ["snmp-core", "ping-cpe", "ping-ap"])),
    ("pollerStates", "target", "", ["device:1", "device:2", "host:10.0.0.5", "item:9"],
     ({"state": "down", "kind": "device"}, ["device:2"]),
     ("-name", ["item:9", "device:2", "device:1", "host:10.0.0.5"])),
    ("pollerHistory", "value", 'target: "device:1", metric: "icmp.rtt"', [5.0, 3.0, 1.0],
     ({"hours": 48}, [30.0, 5.0, 3.0, 1.0]), ("-at", [1.0, 3.0, 5.0])),
    ("pollerAffected", "accountId", "", ["12", "11", "13"],
     ({"target": "device:2", "notified": False}, ["12"]), ("since", ["13", "11", "12"])),
    ("pollerHosts", "address", "", ["10.0.0.2", "10.0.0.3", "10.0.1.2"],
     ({"subnet": "10.0.0.0/29"}, ["10.0.0.2", "10.0.0.3"]),
     ("-lastSeen", ["10.0.1.2", "10.0.0.2", "10.0.0.3"])),
]


@pytest.mark.parametrize("field,key,args,default,filtered,ordered", CASES,
                         ids=[c[0] for c in CASES])
def test_poller_connections(app, seeded, staff_user, api_token, field, key, args, default,
                            filtered, ordered):
    token = api_token(staff_user(["poller.view"]), "full")
    assert walk(app, token, field, key, args=args) == default
    assert walk(app, token, field, key, args=args, filter_=filtered[0]) == filtered[1]
    assert walk(app, token, field, key, args=args, sort=ordered[0]) == ordered[1]
    assert "use one of" in refused_sort(app, token, field, key, args)


@pytest.mark.parametrize("query", [
    '{ pollerHistory(target: "device:1", metric: "icmp.rtt", filter: {hours: 0}) { totalCount } }',
    '{ pollerHistory(target: "device:1", metric: "icmp.rtt", first: -1) { totalCount } }',
    '{ pollerStates(first: 1001) { totalCount } }',
    '{ pollerAffected(filter: {accountId: "x"}) { totalCount } }',
    '{ pollerStates(filter: {kind: "\\u0000"}) { totalCount } }',
    '{ pollerHistory(target: "device:1\\u0000", metric: "icmp.rtt") { totalCount } }',
])
def test_bad_values_are_errors_not_crashes(app, seeded, staff_user, api_token, query):
    token = api_token(staff_user(["poller.view"]), "full")
    got = gql(app, token, query)
    assert got.get("errors") and got["data"] is None, got
    assert "INTERNAL" not in str(got) and "Traceback" not in str(got), got


def test_found_by_the_fuzzer(app, seeded, staff_user, api_token):
    """pollerStates compared None with an int (first: null) and pollerHistory took
    float(None) (hours: null): INTERNAL_ERROR. A template or a notice target with a NUL
    character reached PostgreSQL (which cannot store it): INTERNAL_ERROR."""
    token = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    got = gql(app, token, """{ pollerStates(first: null, sort: null) { totalCount }
      pollerHistory(target: "device:1", metric: "icmp.rtt", first: null,
                    filter: {hours: null}) { totalCount } }""")
    assert got == {"data": {"pollerStates": {"totalCount": 4},
                            "pollerHistory": {"totalCount": 3}}}, got
    made = gql(app, token, """mutation { pollerCreateTemplate(input: {name: "a\\u0000",
      oids: [{name: "cpu", oid: "1.3.6.1.2.1.1.3.0", unit: "\\u0000"}]}) {
      ok errors { field messages } } }""")["data"]["pollerCreateTemplate"]
    assert made == {"ok": False, "errors": [
        {"field": "name", "messages": ["must not contain NUL characters"]},
        {"field": "oids", "messages": ["must not contain NUL characters"]}]}, made
    notice = gql(app, token, """mutation { pollerSendOutageNotice(target: "device:2\\u0000")
      { ok errors { field } } }""")["data"]["pollerSendOutageNotice"]
    assert notice == {"ok": False, "errors": [{"field": "target"}]}, notice


def test_a_page_of_templates_loads_where_they_apply_in_constant_sql(app, seeded, staff_user,
                                                                     api_token):
    from backhaul.plugins.poller import service
    from backhaul.plugins.poller.models import Template

    token = api_token(staff_user(["poller.view"]), "full")
    query = "{ pollerTemplates(first: 50) { nodes { name appliedTo { kind value } } } }"
    ids = {t.name: t.id for t in db.session.scalars(sa.select(Template))}
    service.apply_template(ids["ping-cpe"], "role", "cpe")
    service.apply_template(ids["ping-cpe"], "device", "7")
    db.session.commit()
    got = gql(app, token, query)["data"]["pollerTemplates"]["nodes"]
    assert got == [{"name": "ping-ap", "appliedTo": []},
                   {"name": "ping-cpe", "appliedTo": [{"kind": "role", "value": "cpe"},
                                                      {"kind": "device", "value": "7"}]},
                   {"name": "snmp-core", "appliedTo": []}]
    statements(app, token, query)  # the token's first use writes its own bookkeeping
    few = statements(app, token, query)
    for n in range(5):
        made = service.save_template({"name": f"extra-{n}"})
        service.apply_template(made.id, "role", "router")
    db.session.commit()
    assert statements(app, token, query) == few
