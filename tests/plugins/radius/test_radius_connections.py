"""The RADIUS lists as GraphQL connections: pages walk with first/after, totalCount, a
filter, a published sort, an unknown sort refused, a bad filter value answered as an error."""
from __future__ import annotations

from datetime import timedelta

import pytest
from connection_checks import gql, refused_sort, walk

from backhaul.sdk import db, utcnow


@pytest.fixture
def seeded(app):
    from backhaul.plugins.radius.models import NasSettings, Session

    now = utcnow()
    rows = [Session(device_id=d, acct_session_id=f"s{n}", username=u, account_id=a,
                    subscription_id=a * 10 if a else None, framed_ip=ip,
                    started_at=now - timedelta(hours=h), updated_at=now,
                    stopped_at=now if stopped else None)
            for n, (d, u, a, ip, h, stopped) in enumerate((
                (1, "alice", 1, "100.64.0.2", 1, False), (1, "bob", 2, "100.64.0.3", 5, True),
                (2, "alice", 1, "100.64.0.4", 3, True), (2, "carol", 3, None, 2, False)))]
    db.session.add_all(rows)
    db.session.add_all([NasSettings(device_id=d, dialect=x) for d, x in (
        (7, "juniper"), (3, "mikrotik"), (5, "juniper"))])
    db.session.commit()
    return [str(r.id) for r in rows]


def test_radius_connections(app, seeded, staff_user, api_token):
    token = api_token(staff_user(["radius.view"]), "full")
    one, two, three, four = seeded
    assert walk(app, token, "radiusSessions", "id") == [four, three, two, one]
    assert walk(app, token, "radiusSessions", "id", sort="id") == [one, two, three, four]
    assert walk(app, token, "radiusSessions", "id", sort="startedAt") == [two, three, four, one]
    assert walk(app, token, "radiusSessions", "id", filter_={"open": True}) == [four, one]
    assert walk(app, token, "radiusSessions", "id",
                filter_={"username": "alice", "open": False}) == [three]
    assert walk(app, token, "radiusSessions", "id", filter_={"accountId": "1"}) == [three, one]
    assert walk(app, token, "radiusSessions", "id", filter_={"deviceId": "2"}) == [four, three]
    assert walk(app, token, "radiusSessions", "id",
                filter_={"framedIp": "100.64.0.3"}) == [two]
    refused_sort(app, token, "radiusSessions", "id")
    assert walk(app, token, "radiusNasOptions", "deviceId") == ["3", "5", "7"]
    assert walk(app, token, "radiusNasOptions", "deviceId", sort="-deviceId") == ["7", "5", "3"]
    assert walk(app, token, "radiusNasOptions", "deviceId",
                filter_={"dialect": "juniper"}) == ["5", "7"]
    refused_sort(app, token, "radiusNasOptions", "deviceId")
    bad = gql(app, token, '{ radiusSessions(filter: {accountId: "-3"}) { totalCount } }')
    assert bad.get("errors") and bad["data"] is None and "INTERNAL" not in str(bad), bad
