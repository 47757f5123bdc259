"""Discovery: every address of 127.0.0.0/29 answers (Linux answers on all of 127/8), none
of TEST-NET-2 does; a template applied to the subnet polls what was found."""
from __future__ import annotations

from poller_helpers import poll_once

from backhaul.plugins.poller import service
from backhaul.plugins.poller.models import TargetState
from backhaul.sdk import db


def _gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query, "variables":
                                                        variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    return response.get_json()


DISCOVER = """mutation($s: String!) { pollerDiscover(subnet: $s) { ok
  errors { field messages } hosts { address subnet rttMs } } }"""


def test_discover_and_poll_the_subnet(app, staff_user, api_token):
    manager = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    viewer = api_token(staff_user(["poller.view"]), "full")
    assert _gql(app, viewer, DISCOVER, {"s": "127.0.0.0/29"}).get("errors")
    found = _gql(app, manager, DISCOVER, {"s": "127.0.0.0/29"})["data"]["pollerDiscover"]
    assert found["ok"], found
    assert sorted(h["address"] for h in found["hosts"]) == [f"127.0.0.{i}" for i in range(1, 7)]
    assert {h["subnet"] for h in found["hosts"]} == {"127.0.0.0/29"}
    dead = _gql(app, manager, DISCOVER, {"s": "198.51.100.0/30"})["data"]["pollerDiscover"]
    assert dead == {"ok": True, "errors": [], "hosts": []}
    for subnet, message in (("10.0.0.0/8", "at most 256"), ("nonsense", "IPv4 subnet"),
                            ("2001:db8::/120", "IPv4 only")):
        bad = _gql(app, manager, DISCOVER, {"s": subnet})["data"]["pollerDiscover"]
        assert bad["ok"] is False and message in bad["errors"][0]["messages"][0], bad
    listed = _gql(app, viewer, "{ pollerHosts { nodes { address } } }")["data"]["pollerHosts"]["nodes"]
    assert len(listed) == 6
    tpl = service.save_template({"name": "ping", "icmp_count": 1, "icmp_timeout": 0.5})
    service.apply_template(tpl.id, "subnet", "127.0.0.1/29")  # normalised to the network
    db.session.commit()
    poll_once()
    states = {s.target: s.state for s in db.session.query(TargetState)}
    assert states == {f"host:127.0.0.{i}": "up" for i in range(1, 7)}


def test_discover_page(app, staff_user, login, csrf_token):
    web = app.test_client()
    login(web, staff_user(["poller.view", "poller.manage"]))
    response = web.post("/poller/discover", data={"subnet": "127.0.0.0/30",
                                                  "csrf_token": csrf_token(web)},
                        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "2 host(s) answered." in page and "127.0.0.2" in page
