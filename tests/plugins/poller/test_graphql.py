"""GraphQL: templates, applying them, states and history; permissions."""
from __future__ import annotations

from poller_helpers import make_device, poll_once


def _gql(app, token, query, variables=None):
    response = app.test_client().post("/graphql", json={"query": query,
                                                        "variables": variables or {}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


CREATE = """mutation($input: PollerTemplateInput!) { pollerCreateTemplate(input: $input) {
  ok errors { field messages } template { id name oids { name type warning } } } }"""


def test_templates_states_history(app, staff_user, api_token):
    manager = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    viewer = api_token(staff_user(["poller.view"]), "full")
    bad = _gql(app, manager, CREATE, {"input": {"name": "x", "oids": [
        {"name": "cpu", "oid": "not.an.oid"}]}})
    assert bad["data"]["pollerCreateTemplate"]["ok"] is False, bad
    made = _gql(app, manager, CREATE, {"input": {"name": "ping", "icmpCount": 1,
                                                 "icmpTimeout": 0.5}})
    assert made["data"], made
    tpl = made["data"]["pollerCreateTemplate"]["template"]
    denied = _gql(app, viewer, CREATE, {"input": {"name": "y"}})
    assert denied.get("errors")
    device = make_device("core-1", "127.0.0.1", role="router")
    applied = _gql(app, manager, """mutation($id: ID!, $v: String!) { pollerApplyTemplate(
        templateId: $id, kind: "device", value: $v) { ok applied { id kind value } } }""",
                   {"id": tpl["id"], "v": str(device.id)})
    assert applied["data"]["pollerApplyTemplate"]["ok"]
    poll_once()
    states = _gql(app, viewer, "{ pollerStates { target name state loss } }")
    assert states["data"]["pollerStates"] == [
        {"target": f"device:{device.id}", "name": "core-1", "state": "up", "loss": 0.0}]
    history = _gql(app, viewer, """query($t: String!) { pollerHistory(target: $t,
        metric: "icmp.rtt") { at value } }""", {"t": f"device:{device.id}"})
    assert len(history["data"]["pollerHistory"]) == 1
