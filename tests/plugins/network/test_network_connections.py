"""The network lists as GraphQL connections: pages walk with first/after, totalCount, a
filter, a published sort, an unknown sort refused, a bad filter value answered as an error."""
from __future__ import annotations

from datetime import timedelta

import pytest
from connection_checks import gql, refused_sort, statements, walk

from backhaul.sdk import db, utcnow


@pytest.fixture
def seeded(app):
    from backhaul.plugins.network.models import (
        Assignment,
        Device,
        Lease,
        Reconcile,
        Site,
        Subnet,
    )

    now = utcnow()
    sites = [Site(name=n) for n in ("charlie-mdu", "alpha-pop", "bravo-tower")]
    db.session.add_all(sites)
    db.session.flush()
    devices = [Device(name="edge-1", backend="testkit.directory", role="router", host="10.9.0.1",
                      site_id=sites[1].id, settings={}, secrets=""),
               Device(name="olt-1", backend="testkit.directory", role="olt", host="10.9.0.3",
                      settings={}, secrets=""),
               Device(name="bng-1", backend="testkit.directory", role="bng", host="10.9.0.2",
                      settings={}, secrets="", last_error="timeout")]
    db.session.add_all(devices)
    db.session.flush()
    subnets = [Subnet(cidr=c, kind=k) for c, k in (("10.0.2.0/24", "pppoe"),
                                                   ("10.0.0.0/24", "pppoe"),
                                                   ("10.0.1.0/24", "dhcp"))]
    db.session.add_all(subnets)
    db.session.flush()
    held = [("10.0.0.5", 3, now - timedelta(days=1)), ("10.0.0.9", 2, None),
            ("10.0.0.7", 1, now - timedelta(hours=1))]
    db.session.add_all([Assignment(subnet_id=subnets[1].id, subscription_id=41, address=a,
                                   valid_from=now - timedelta(days=days), valid_to=to)
                        for a, days, to in held])
    db.session.add(Assignment(subnet_id=subnets[1].id, subscription_id=42, address="10.0.0.6",
                              valid_from=now - timedelta(days=5)))
    runs = [Reconcile(device_id=devices[0].id, at=now - timedelta(minutes=m), dry_run=dry,
                      changes=[], applied=0, error=err)
            for m, dry, err in ((30, True, None), (20, False, "refused"), (10, False, None))]
    db.session.add_all(runs)
    db.session.add_all([Lease(device_id=devices[0].id, subscription_id=41, address=a, mac=m,
                              seen_at=now) for a, m in (("10.0.1.3", "AA:BB:CC:00:00:03"),
                                                        ("10.0.1.2", "aa:bb:cc:00:00:02"))])
    db.session.commit()
    return {"sites": sites, "devices": devices, "runs": [str(r.id) for r in runs]}


CASES = [
    # field, key, default order, (filter, expected), (sort, expected)
    ("networkSites", "name", ["alpha-pop", "bravo-tower", "charlie-mdu"],
     ({"search": "TOWER"}, ["bravo-tower"]),
     ("-name", ["charlie-mdu", "bravo-tower", "alpha-pop"])),
    ("networkDevices", "name", ["bng-1", "edge-1", "olt-1"],
     ({"failing": True}, ["bng-1"]), ("-name", ["olt-1", "edge-1", "bng-1"])),
    ("networkSubnets", "cidr", ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
     ({"kind": "pppoe"}, ["10.0.0.0/24", "10.0.2.0/24"]),
     ("-cidr", ["10.0.2.0/24", "10.0.1.0/24", "10.0.0.0/24"])),
    ("networkAssignments", "address", ["10.0.0.7", "10.0.0.9", "10.0.0.5", "10.0.0.6"],
     ({"subscriptionId": "41", "current": False}, ["10.0.0.7", "10.0.0.5"]),
     ("address", ["10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.9"])),
    ("networkLeases", "address", ["10.0.1.2", "10.0.1.3"],
     ({"mac": "aa:bb:cc:00:00:03"}, ["10.0.1.3"]), ("-address", ["10.0.1.3", "10.0.1.2"])),
]


@pytest.mark.parametrize("field,key,default,filtered,ordered", CASES,
                         ids=[c[0] for c in CASES])
def test_network_connections(app, seeded, staff_user, api_token, field, key, default,
                             filtered, ordered):
    token = api_token(staff_user(["network.view"]), "full")
    assert walk(app, token, field, key) == default
    assert walk(app, token, field, key, filter_=filtered[0]) == filtered[1]
    assert walk(app, token, field, key, sort=ordered[0]) == ordered[1]
    assert "use one of" in refused_sort(app, token, field, key)


def test_reconciles_and_bad_filter_values(app, seeded, staff_user, api_token):
    token = api_token(staff_user(["network.view"]), "full")
    first, failed, last = seeded["runs"]
    assert walk(app, token, "networkReconciles", "id") == [last, failed, first]
    assert walk(app, token, "networkReconciles", "id", sort="at") == [first, failed, last]
    assert walk(app, token, "networkReconciles", "id", filter_={"failed": True}) == [failed]
    assert walk(app, token, "networkReconciles", "id",
                filter_={"deviceId": str(seeded["devices"][1].id)}) == []
    site = str(seeded["sites"][1].id)
    assert walk(app, token, "networkDevices", "name", filter_={"siteId": site}) == ["edge-1"]
    for field, bad in (("networkAssignments", {"address": "not-an-ip"}),
                       ("networkDevices", {"siteId": "x"})):
        got = gql(app, token, f"{{ {field}(filter: {{{next(iter(bad))}: "
                              f"\"{next(iter(bad.values()))}\"}}) {{ totalCount }} }}")
        assert got.get("errors") and got["data"] is None, got
        assert "INTERNAL" not in str(got) and "Traceback" not in str(got)
    denied = gql(app, api_token(staff_user(["accounts.account.view"]), "full"),
                 "{ networkSites { totalCount } }")
    assert denied.get("errors") and denied["data"] is None


def test_a_page_of_subnets_costs_the_same_sql_for_3_or_9(app, seeded, staff_user, api_token):
    from backhaul.plugins.network.models import Subnet

    token = api_token(staff_user(["network.view"]), "full")
    query = "{ networkSubnets(first: 50) { nodes { cidr used size } } }"
    used = {n["cidr"]: (n["used"], n["size"])
            for n in gql(app, token, query)["data"]["networkSubnets"]["nodes"]}
    # two addresses of 10.0.0.0/24 are held now (two were released)
    assert used == {"10.0.0.0/24": (2, 254), "10.0.1.0/24": (0, 254), "10.0.2.0/24": (0, 254)}
    statements(app, token, query)  # the token's first use writes its own bookkeeping
    few = statements(app, token, query)
    db.session.add_all([Subnet(cidr=f"10.1.{n}.0/24", kind="static") for n in range(6)])
    db.session.commit()
    assert statements(app, token, query) == few
