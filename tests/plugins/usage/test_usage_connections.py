"""The usage lists as GraphQL connections: pages walk with first/after, totalCount, a
filter, a published sort, an unknown sort refused, a bad filter value answered as an error."""
from __future__ import annotations

from datetime import timedelta

from connection_checks import gql, refused_sort, walk
from usage_helpers import make_subscriber

from backhaul.sdk import db, utcnow


def test_usage_connections(app, staff_user, api_token):
    from backhaul.plugins.usage.models import Daily, Hourly, Unattributed

    _account, sub, _ = make_subscriber(app)
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    # bytes down = hours ago (radius) or 100 + hours ago (netflow): tells rows apart
    db.session.add_all([Hourly(subscription_id=sub.id, hour=hour - timedelta(hours=h),
                               source=s, bytes_down=h + (100 if s == "netflow" else 0),
                               bytes_up=0)
                        for h in (1, 2, 3) for s in ("radius", "netflow")])
    db.session.add_all([Daily(subscription_id=sub.id, day=(hour - timedelta(days=d)).date(),
                              source="radius", bytes_down=d, bytes_up=0) for d in (1, 2)])
    db.session.add_all([Unattributed(exporter=e, hour=hour - timedelta(hours=h), bytes=b, flows=1)
                        for e, h, b in (("192.0.2.1", 1, 500), ("192.0.2.1", 2, 700),
                                        ("192.0.2.9", 1, 300))])
    db.session.commit()
    token = api_token(staff_user(["usage.view"]), "full")
    args = f'subscriptionId: "{sub.id}", grain: HOUR'
    newest_first = walk(app, token, "usage", "bytesDown", args=args)
    assert newest_first[::2] + newest_first[1::2] in ([1, 2, 3, 101, 102, 103],
                                                      [101, 102, 103, 1, 2, 3])
    assert walk(app, token, "usage", "bytesDown", args=args, filter_={"source": "netflow"}) \
        == [101, 102, 103]
    assert walk(app, token, "usage", "bytesDown", args=args, sort="start",
                filter_={"source": "radius"}) == [3, 2, 1]
    assert walk(app, token, "usage", "bytesDown", args=args, filter_={
        "source": "radius", "since": (hour - timedelta(hours=2)).isoformat()}) == [1, 2]
    counted = walk(app, token, "usage", "counted", args=args, filter_={"counted": True})
    assert counted == [True] * 3
    assert walk(app, token, "usage", "bytesDown", args=f'subscriptionId: "{sub.id}"') == [1, 2]
    refused_sort(app, token, "usage", "bytesDown", args)
    assert walk(app, token, "usageUnattributed", "bytes") in ([500, 300, 700], [300, 500, 700])
    assert walk(app, token, "usageUnattributed", "bytes", sort="-bytes") == [700, 500, 300]
    assert walk(app, token, "usageUnattributed", "bytes",
                filter_={"exporter": "192.0.2.1"}, sort="hour") == [700, 500]
    refused_sort(app, token, "usageUnattributed", "bytes")
    for query in ('{ usage(subscriptionId: "0") { totalCount } }',
                  '{ usageUnattributed(filter: {exporter: "\\u0000"}) { totalCount } }'):
        bad = gql(app, token, query)
        assert bad.get("errors") and bad["data"] is None and "INTERNAL" not in str(bad), bad
