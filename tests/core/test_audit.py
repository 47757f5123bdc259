"""The audit trail records every create, update and delete with its actor; secrets never."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from graphql_helpers import Maker, Widget, bearer, gql, tst_app_fixture

from backhaul.core.actor import Actor, acting_as
from backhaul.core.audit import chain
from backhaul.core.audit.models import AuditEntry
from backhaul.core.db import db
from backhaul.sdk import audit


@pytest.fixture
def tst_app(make_app, temp_plugin):
    yield from tst_app_fixture(make_app, temp_plugin)


ALICE = Actor("user", "7", "alice@example.test")


def entries(object_type=None):
    stmt = sa.select(AuditEntry).order_by(AuditEntry.seq)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    db.session.expire_all()
    return list(db.session.scalars(stmt))


def test_create_update_delete_with_actor_and_changed_fields(tst_app):
    with acting_as(ALICE):
        db.session.add(Maker(id=1, name="Acme"))
        db.session.commit()
        maker = db.session.get(Maker, 1)
        maker.name = "Acme Ltd"
        db.session.commit()
        db.session.delete(db.session.get(Maker, 1))
        db.session.commit()
    created, updated, deleted = entries("tst_maker")
    assert [e.action for e in (created, updated, deleted)] == ["create", "update", "delete"]
    assert {(e.actor_kind, e.actor_id, e.actor_label) for e in (created, updated, deleted)} == {
        ("user", "7", "alice@example.test")}
    assert {e.object_id for e in (created, updated, deleted)} == {"1"}
    assert created.changes == {"id": {"after": 1}, "name": {"after": "Acme"}}
    assert updated.changes == {"name": {"before": "Acme", "after": "Acme Ltd"}}
    assert deleted.changes == {"id": {"before": 1}, "name": {"before": "Acme Ltd"}}


def test_an_update_records_only_changed_fields_and_expired_rows_load(tst_app):
    db.session.add(Maker(id=1, name="A"))
    db.session.add(Maker(id=2, name="B"))
    db.session.commit()
    db.session.get(Maker, 1).name = "A"  # same value: nothing to record
    db.session.commit()
    db.session.delete(db.session.get(Maker, 2))  # expired after commit: loaded for the entry
    db.session.commit()
    assert [(e.action, e.changes) for e in entries("tst_maker")][2:] == [
        ("delete", {"id": {"before": 2}, "name": {"before": "B"}})]


def test_secrets_are_redacted_and_bookkeeping_excluded(tst_app, staff_user, api_token):
    db.session.add(Maker(id=1, name="m"))
    db.session.add(Widget(id=1, name="w", maker_id=1, pin="1234"))
    db.session.commit()
    db.session.get(Widget, 1).pin = "9876"
    db.session.commit()
    created, updated = entries("tst_widget")
    assert created.changes["pin"] == {"after": "***"}
    assert updated.changes == {"pin": {"before": "***", "after": "***"}}
    token = api_token(staff_user(["tst.widget.view"]), "read")
    from backhaul.core.auth.models import ApiToken, User

    user = db.session.scalar(sa.select(User))
    stored = db.session.scalar(sa.select(ApiToken.token_hash))
    (user_entry,) = entries("auth_user")
    assert user_entry.changes["password_hash"] == {"after": "***"}
    (token_entry,) = entries("auth_api_token")
    assert token_entry.changes["token_hash"] == {"after": "***"}
    text = str([e.changes for e in entries()])
    assert token not in text and stored not in text and user.password_hash not in text
    before = len(entries())
    gql(tst_app.test_client(), "{ viewer { email } }", headers=bearer(token))  # last_used_at
    assert len(entries()) == before
    text = str([e.changes for e in entries()])
    assert "1234" not in text and "9876" not in text


def test_tables_marked_not_audited_are_skipped(tst_app):
    from backhaul.core.jobs import enqueue

    enqueue("backhaul.core.audit.chain:canonical_json", {}, delay=__import__(
        "datetime").timedelta(hours=1))
    db.session.commit()
    assert entries("core_job") == []
    assert entries("audit_entry") == [] and entries("audit_chain_head") == []


def test_many_to_many_changes_are_recorded_on_the_owner(tst_app, staff_user):
    from backhaul.core.auth.models import Role, User

    user = staff_user([])
    role = Role(name="Support")
    db.session.add(role)
    db.session.commit()
    user = db.session.get(User, user.id)
    user.roles.append(role)
    db.session.commit()
    last = entries("auth_user")[-1]
    assert last.action == "update"
    assert last.changes == {"roles": {"added": [str(role.id)], "removed": []}}


def test_rolled_back_changes_leave_no_entry(tst_app):
    db.session.add(Maker(id=1, name="kept"))
    audit.record("tst.kept", "tst_maker", 1)
    db.session.commit()
    db.session.add(Maker(id=2, name="rolled back"))
    db.session.flush()
    audit.record("tst.lost", "tst_maker", 2)
    db.session.rollback()
    with db.session.begin_nested():
        db.session.add(Maker(id=3, name="kept in savepoint"))
    try:
        with db.session.begin_nested():
            db.session.add(Maker(id=4, name="lost in savepoint"))
            db.session.flush()
            audit.record("tst.lost", "tst_maker", 4)
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    db.session.commit()
    assert sorted((e.action, e.object_id) for e in entries("tst_maker")) == [
        ("create", "1"), ("create", "3"), ("tst.kept", "1")]
    assert chain.verify(db.session).ok


def test_explicit_events_carry_the_actor_and_redact_secret_keys(tst_app):
    with acting_as(Actor("job", "42", "billing.run")):
        audit.record("billing.payment", "billing_payment", 99,
                     {"amount": __import__("backhaul.sdk", fromlist=["Money"]).Money(1250, "EUR"),
                      "password": "hunter2"})
    db.session.commit()
    (entry,) = entries("billing_payment")
    assert (entry.action, entry.object_id, entry.actor_kind, entry.actor_label) == (
        "billing.payment", "99", "job", "billing.run")
    assert entry.changes == {"amount": {"amount": 1250, "currency": "EUR"}, "password": "***"}


def test_graphql_mutation_is_audited_as_its_token(tst_app, staff_user, api_token):
    user = staff_user(["tst.widget.edit", "tst.widget.view"])
    token = api_token(user, "full")
    db.session.add(Maker(id=1, name="m"))
    db.session.commit()
    response = gql(tst_app.test_client(),
                   'mutation { tstCreateWidget(name: "new", makerId: 1) { ok } }',
                   headers=bearer(token))
    assert response.get_json()["data"]["tstCreateWidget"]["ok"] is True
    (entry,) = entries("tst_widget")
    assert entry.action == "create" and entry.actor_kind == "token"
    assert user.email in entry.actor_label
    assert entry.changes["name"] == {"after": "new"} and entry.changes["pin"] == {"after": "***"}


def test_audit_entries_in_graphql_filter_and_page(tst_app, staff_user, api_token):
    with acting_as(ALICE):
        for i in range(1, 6):
            db.session.add(Maker(id=i, name=f"m{i}"))
            db.session.commit()
        audit.record("auth.login_failed", "auth_user", 7)
        db.session.commit()
    reader = bearer(api_token(staff_user(["audit.log.view"]), "read"))
    query = """query($f: AuditEntryFilter, $after: String) {
      auditEntries(filter: $f, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { seq action objectType objectId actorKind actorId actorLabel changes hash prevHash }
      } }"""
    client = tst_app.test_client()
    data = gql(client, query, {"f": {"objectType": "tst_maker", "actor": "alice"}},
               headers=reader).get_json()["data"]["auditEntries"]
    assert data["totalCount"] == 5 and data["pageInfo"]["hasNextPage"]
    assert [n["objectId"] for n in data["nodes"]] == ["5", "4"]  # newest first
    assert data["nodes"][0]["actorLabel"] == "alice@example.test"
    assert data["nodes"][0]["prevHash"] == data["nodes"][1]["hash"]
    page2 = gql(client, query, {"f": {"objectType": "tst_maker"},
                                "after": data["pageInfo"]["endCursor"]},
                headers=reader).get_json()["data"]["auditEntries"]
    assert [n["objectId"] for n in page2["nodes"]] == ["3", "2"]
    events = gql(client, query, {"f": {"action": "auth.*", "actor": "user:7"}},
                 headers=reader).get_json()["data"]["auditEntries"]
    assert [n["action"] for n in events["nodes"]] == ["auth.login_failed"]
    refused = gql(client, query, headers=bearer(api_token(staff_user(["tst.widget.view"]),
                                                          "full"))).get_json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_audit_log_page_filters_and_pages(tst_app, staff_user, login):
    with acting_as(ALICE):
        for i in range(1, 56):
            db.session.add(Maker(id=i, name=f"maker-{i}"))
        db.session.commit()
        audit.record("auth.login_failed", "auth_user", 7, {"ip": "192.0.2.9"})
        db.session.commit()
    browser = tst_app.test_client()
    login(browser, staff_user(["audit.log.view"]))
    page = browser.get("/audit/?object_type=tst_maker")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "55 matching entries" in html and "maker-55" in html and "maker-5<" not in html
    assert "auth.login_failed" not in html
    older = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    html2 = browser.get(older).get_data(as_text=True)
    assert "maker-5<" in html2 and "maker-55" not in html2
    events = browser.get("/audit/?action=auth.*&actor=alice&from=2000-01-01&to=2999-12-31")
    assert "auth.login_failed" in events.get_data(as_text=True)
    assert "1 matching entry" in events.get_data(as_text=True)
    none = browser.get("/audit/?from=2999-01-01").get_data(as_text=True)
    assert "0 matching entries" in none and "No entries match" in none


def test_audit_log_page_needs_its_permission(tst_app, staff_user, login):
    browser = tst_app.test_client()
    login(browser, staff_user(["tst.widget.view"]))
    assert browser.get("/audit/").status_code == 403
    anonymous = tst_app.test_client().get("/audit/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
