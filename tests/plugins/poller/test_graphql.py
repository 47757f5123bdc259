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
    states = _gql(app, viewer, "{ pollerStates { nodes { target name state loss } } }")
    assert states["data"]["pollerStates"]["nodes"] == [
        {"target": f"device:{device.id}", "name": "core-1", "state": "up", "loss": 0.0}]
    history = _gql(app, viewer, """query($t: String!) { pollerHistory(target: $t,
        metric: "icmp.rtt") { nodes { at value } } }""", {"t": f"device:{device.id}"})
    assert len(history["data"]["pollerHistory"]["nodes"]) == 1


def test_v3_keys_are_write_only(app, staff_user, api_token):
    manager = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    query = """mutation($input: PollerTemplateInput!) { pollerCreateTemplate(input: $input) {
      ok errors { field messages } template { id snmpVersion v3User v3Auth v3Priv v3KeysSet
      snmpInterfaces } } }"""
    short = _gql(app, manager, query, {"input": {
        "name": "v3", "snmpVersion": "3", "v3User": "noc", "v3AuthKey": "short",
        "v3PrivKey": "long-enough-1"}})["data"]["pollerCreateTemplate"]
    assert short["ok"] is False
    assert [e["field"] for e in short["errors"]] == ["v3AuthKey"]
    made = _gql(app, manager, query, {"input": {
        "name": "v3", "snmpVersion": "3", "v3User": "noc", "v3Auth": "SHA-384",
        "v3AuthKey": "auth-secret-1", "v3Priv": "AES-192", "v3PrivKey": "priv-secret-1",
        "snmpInterfaces": True}})["data"]["pollerCreateTemplate"]
    assert made["ok"], made
    assert made["template"] == {"id": made["template"]["id"], "snmpVersion": "3",
                                "v3User": "noc", "v3Auth": "SHA-384", "v3Priv": "AES-192",
                                "v3KeysSet": True, "snmpInterfaces": True}
    listed = app.test_client().post("/graphql", json={"query": "{ pollerTemplates { nodes { name } } }"},
                                    headers={"Authorization": f"Bearer {manager}"})
    assert "auth-secret-1" not in listed.get_data(as_text=True)
    bad = _gql(app, manager, query, {"input": {"name": "x", "snmpVersion": "3", "v3User": "n",
                                               "v3AuthKey": "12345678", "v3PrivKey": "12345678",
                                               "v3Priv": "DES"}})
    assert bad["data"]["pollerCreateTemplate"]["errors"][0]["field"] == "v3Priv"


def test_the_v2c_community_is_sealed_write_only_and_kept(app, staff_user, api_token, login):
    """A community is an SNMP agent's password: sealed at rest, absent from the audit trail
    and from every answer, kept when an update leaves it out, and what the poller sends."""
    import sqlalchemy as sa

    from backhaul.plugins.poller.models import Template
    from backhaul.plugins.poller.targets import TemplateSpec
    from backhaul.sdk import db

    community = "Tower7-ro-Quokka"
    manager = api_token(staff_user(["poller.view", "poller.manage"]), "full")
    made = _gql(app, manager, """mutation($input: PollerTemplateInput!) {
      pollerCreateTemplate(input: $input) { ok template { id snmpCommunitySet } } }""",
                {"input": {"name": "agents", "snmpEnabled": True, "snmpCommunity": community}})
    tpl = made["data"]["pollerCreateTemplate"]["template"]
    assert tpl["snmpCommunitySet"] is True
    updated = _gql(app, manager, """mutation($id: ID!, $input: PollerTemplateInput!) {
      pollerUpdateTemplate(id: $id, input: $input) { ok template { name snmpCommunitySet } } }""",
                   {"id": tpl["id"], "input": {"name": "agents-2", "snmpCommunity": ""}})
    assert updated["data"]["pollerUpdateTemplate"]["template"] == {
        "name": "agents-2", "snmpCommunitySet": True}
    listed = _gql(app, manager, "{ pollerTemplates { nodes { name snmpCommunitySet } } }")
    assert listed["data"]["pollerTemplates"]["nodes"] == [
        {"name": "agents-2", "snmpCommunitySet": True}]
    assert community not in str(listed)
    too_long = _gql(app, manager, """mutation($id: ID!, $input: PollerTemplateInput!) {
      pollerUpdateTemplate(id: $id, input: $input) { ok errors { field } } }""",
                    {"id": tpl["id"], "input": {"snmpCommunity": "x" * 65}})
    assert too_long["data"]["pollerUpdateTemplate"] == {
        "ok": False, "errors": [{"field": "snmpCommunity"}]}
    db.session.expire_all()
    row = db.session.get(Template, int(tpl["id"]))
    assert TemplateSpec.of(row).snmp_community == community, "the poller still sends it"
    stored = " ".join(str(v) for v in db.session.execute(
        sa.select(Template.__table__)).one())
    audited = " ".join(str(c) for c in db.session.execute(
        sa.text("SELECT changes FROM audit_entry")).scalars())
    assert community not in stored and community not in audited
    client = app.test_client()
    login(client, staff_user(["poller.view", "poller.manage"]))
    page = client.get(f"/poller/templates/{tpl['id']}")
    assert page.status_code == 200
    assert "stored; leave blank to keep" in page.get_data(as_text=True)
    assert community not in page.get_data(as_text=True)


def test_a_new_template_without_a_community_uses_public(app):
    from backhaul.plugins.poller import service
    from backhaul.plugins.poller.targets import TemplateSpec
    from backhaul.sdk import db

    tpl = service.save_template({"name": "plain"})
    db.session.commit()
    assert TemplateSpec.of(tpl).snmp_community == "public"
