"""Issue 21: the core's list fields are connections — pages walked with first/after,
totalCount, a filter, a published sort, and an unknown sort key refused.

Every expectation below comes from the rows seeded here (names, times, flags), not from the
resolvers: each case says which seeded rows a filter keeps and in which order a sort puts them.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from backhaul.core.accounts.models import (
    Account,
    AccountStatus,
    Address,
    Building,
    Call,
    Contact,
    Note,
    ScheduledEvent,
)
from backhaul.core.auth.models import ApiToken, Role, RolePermission
from backhaul.core.db import db, utcnow
from backhaul.sdk.testing.auth import create_api_token, make_staff_user


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[])
    with application.app_context():
        yield application


def _post(app, token, query, **variables):
    response = app.test_client().post("/graphql", json={"query": query, "variables": variables},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 400), response.status_code  # 400: invalid document
    return response.get_json()


def _walk(app, token, field, node_field, filter, sort=None, size=2):  # noqa: A002
    """Every node's ``node_field`` page by page, and the totalCount of each page."""
    query = (f"query($f: {_FILTERS[field]}, $a: String, $s: String, $n: Int) {{ {field}("
             f"filter: $f, first: $n, after: $a, sort: $s) {{ totalCount "
             f"pageInfo {{ hasNextPage endCursor }} nodes {{ {node_field} }} }} }}")
    seen, totals, after = [], set(), None
    for _ in range(20):
        body = _post(app, token, query, f=filter, a=after, s=sort, n=size)
        assert "errors" not in body, body
        page = body["data"][field]
        assert len(page["nodes"]) <= size
        seen += [n[node_field] for n in page["nodes"]]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pages never ended")


_FILTERS = {"staffUsers": "StaffUserFilter", "staffRoles": "StaffRoleFilter",
            "apiTokens": "ApiTokenFilter", "myApiTokens": "ApiTokenFilter",
            "accountStatuses": "AccountStatusFilter", "contacts": "ContactFilter",
            "addresses": "AddressFilter", "buildings": "BuildingFilter", "notes": "NoteFilter",
            "calls": "CallFilter", "scheduledEvents": "ScheduledEventFilter",
            "auditEntries": "AuditEntryFilter", "plugins": "PluginInfoFilter"}

T0 = utcnow().replace(microsecond=0) - timedelta(days=3)
T1, T2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)


def _iso(at):
    return at.isoformat()


@pytest.fixture
def seeded(app):
    """Rows named A, B, C (created in the order C, A, B where that matters), and the caller."""
    me = make_staff_user(superuser=True, email="caller@example.test", name="Caller")
    token = create_api_token(me, "full", name="caller's token")
    ids = {}
    for letter, active in (("C", True), ("A", True), ("B", False)):
        make_staff_user([], email=f"conn-{letter.lower()}@example.test", name=f"Conn {letter}",
                        active=active)
    for letter in "CAB":
        role = Role(name=f"Conn {letter}", description="seeded")
        if letter == "A":
            role.grants = [RolePermission(permission="accounts.account.view")]
        db.session.add(role)
    other = make_staff_user([], email="other@example.test", name="Other")
    for letter, owner, at, revoked, expires in (
            ("A", me, T0, None, T0 + timedelta(minutes=5)), ("B", other, T1, T2, None),
            ("C", me, T2, None, None)):
        db.session.add(ApiToken(user_id=owner.id, name=f"Conn {letter}", prefix=f"bh_{letter}",
                                token_hash=f"hash-{letter}", scope="read", created_at=at,
                                revoked_at=revoked, expires_at=expires))
    for letter, position, meaning in (("A", 3, "active"), ("B", 1, "active"),
                                      ("C", 2, "prospect")):
        db.session.add(AccountStatus(key=f"conn_{letter.lower()}", name=f"Conn {letter}",
                                     colour="#000000", meaning=meaning, position=position))
    db.session.flush()
    status = db.session.query(AccountStatus).filter_by(key="conn_a").one()
    account = Account(number="C-1", name="Conn account", status_id=status.id)
    db.session.add(account)
    for letter in "CAB":
        db.session.add(Building(name=f"Conn {letter}", street=f"{letter} St", city="Connville",
                                country="US", key=f"k-{letter}"))
    for letter, street in (("A", "1 Alder St"), ("B", "2 Birch St"), ("C", "3 Cedar St")):
        db.session.add(Address(street=street, city="Connville", country="US",
                               serviceable=letter == "B", key=f"conn-address-{letter}"))
    db.session.flush()
    for letter in "CAB":
        db.session.add(Contact(account_id=account.id, name=f"Conn {letter}",
                               portal_access=letter == "A"))
    for letter, at in (("A", T0), ("B", T1), ("C", T2)):
        db.session.add(Note(account_id=account.id, body=f"note {letter}",
                            body_html=f"<p>note {letter}</p>", created_at=at))
    for letter, at, seconds in (("A", T0, 30), ("B", T1, 10), ("C", T2, 20)):
        db.session.add(Call(account_id=account.id, direction="inbound", at=at,
                            duration_seconds=seconds, summary=f"Conn {letter}"))
    future = utcnow() + timedelta(days=30)
    for letter, days in (("C", 2), ("A", 0), ("B", 1)):
        due = future + timedelta(days=days)
        db.session.add(ScheduledEvent(account_id=account.id, action="change_status",
                                      params={"status": "conn_a"}, due_at=due,
                                      next_attempt_at=due, created_by=f"Conn {letter}",
                                      status="cancelled" if letter == "B" else "pending"))
    db.session.commit()
    buildings = {b.name[-1]: str(b.id) for b in db.session.query(Building)
                 .filter(Building.city == "Connville")}
    ids.update(account=str(account.id), buildings=buildings)
    return token, ids


# field, node field, base filter, default order, (sort, order), (extra filter, kept)
CASES = [
    ("staffUsers", "name", {"search": "conn-"}, "ABC", ("-name", "CBA"), ({"active": False}, "B")),
    ("staffRoles", "name", {"search": "Conn"}, "ABC", ("-name", "CBA"),
     ({"permission": "accounts.account.view"}, "A")),
    ("apiTokens", "name", {"search": "Conn"}, "CBA", ("createdAt", "ABC"),
     ({"status": "revoked"}, "B")),
    ("myApiTokens", "name", {"search": "Conn"}, "CA", ("createdAt", "AC"),
     ({"status": "expired"}, "A")),
    ("accountStatuses", "name", {"search": "conn_"}, "BCA", ("-name", "CBA"),
     ({"meaning": "prospect"}, "C")),
    ("contacts", "name", {"accountId": "@account"}, "CAB", ("name", "ABC"),
     ({"portalAccess": True}, "A")),
    ("addresses", "street", {"city": "connville"}, "ABC", ("-street", "CBA"),
     ({"serviceable": True}, "B")),
    ("buildings", "name", {"city": "Connville"}, "ABC", ("-name", "CBA"),
     ({"search": "Conn B"}, "B")),
    ("notes", "body", {"accountId": "@account"}, "CBA", ("createdAt", "ABC"),
     ({"createdFrom": _iso(T1)}, "CB")),
    ("calls", "summary", {"accountId": "@account"}, "CBA", ("durationSeconds", "BCA"),
     ({"to": _iso(T1)}, "A")),
    ("scheduledEvents", "createdBy", {"accountId": "@account"}, "ABC", ("-dueAt", "CBA"),
     ({"status": ["cancelled", "failed"]}, "B")),
    ("auditEntries", "objectId", {"objectType": "core_building", "action": "create"}, "BAC",
     ("seq", "CAB"), ({"objectId": "@building B"}, "B")),
]


def _resolve(value, ids):
    if value == "@account":
        return ids["account"]
    if isinstance(value, str) and value.startswith("@building "):
        return ids["buildings"][value[-1]]
    return value


def _letters(values, field, ids):
    if field == "auditEntries":  # building ids -> their letters
        by_id = {v: k for k, v in ids["buildings"].items()}
        return "".join(by_id[v] for v in values)
    if field == "addresses":  # "2 Birch St" -> B
        return "".join(v.split()[1][0] for v in values)
    return "".join(str(v)[-1] for v in values)


@pytest.mark.parametrize("field,node,base,default,sort,extra", CASES,
                         ids=[c[0] for c in CASES])
def test_core_list_is_a_connection(app, seeded, field, node, base, default, sort, extra):
    token, ids = seeded
    base = {k: _resolve(v, ids) for k, v in base.items()}

    seen, totals = _walk(app, token, field, node, base)
    assert _letters(seen, field, ids) == default
    assert totals == {len(default)}

    seen, _ = _walk(app, token, field, node, base, sort=sort[0], size=1)
    assert _letters(seen, field, ids) == sort[1]

    narrowed = {**base, **{k: _resolve(v, ids) for k, v in extra[0].items()}}
    seen, totals = _walk(app, token, field, node, narrowed)
    assert _letters(seen, field, ids) == extra[1] and totals == {len(extra[1])}

    body = _post(app, token, f"{{ {field}(sort: \"bogus\") {{ totalCount }} }}")
    assert body["errors"] and "Cannot sort by 'bogus'" in body["errors"][0]["message"]


def test_filters_with_bad_values_are_user_errors(app, seeded):
    token, _ = seeded
    for query in ('{ apiTokens(filter: {status: "lost"}) { totalCount } }',
                  '{ plugins(filter: {status: "sleeping"}) { totalCount } }',
                  '{ staffUsers(filter: {roleId: "x"}) { totalCount } }',
                  '{ notes(filter: {createdFrom: "yesterday"}) { totalCount } }',
                  # NUL cannot reach PostgreSQL: refused, not a database error (fuzzer)
                  '{ accountStatuses(filter: {meaning: "\\u0000"}) { totalCount } }',
                  '{ contacts(filter: {search: "a\\u0000"}) { totalCount } }',
                  '{ staffUsers(filter: {search: "\\u0000"}) { totalCount } }',
                  '{ scheduledEvents(filter: {status: ["\\u0000"]}) { totalCount } }'):
        body = _post(app, token, query)
        assert body.get("errors") and not body.get("data"), (query, body)
        assert "INTERNAL" not in str(body), body


def test_plugins_is_a_connection_over_the_registry(app, seeded):
    token, _ = seeded
    records = app.extensions["backhaul.plugins"].records
    names = sorted(records)
    seen, totals = _walk(app, token, "plugins", "name", {}, size=3)
    assert seen == names and totals == {len(names)}
    seen, _ = _walk(app, token, "plugins", "name", {}, sort="-name", size=3)
    assert seen == names[::-1]
    enabled = [n for n in names if records[n].status == "enabled"]
    assert _walk(app, token, "plugins", "name", {"status": "enabled"})[0] == enabled
    body = _post(app, token, '{ plugins(sort: "version") { totalCount } }')
    assert "Cannot sort by 'version'" in body["errors"][0]["message"]


def test_staff_users_page_costs_the_same_statements_for_more_users(app, seeded):
    import sqlalchemy as sa

    token, _ = seeded
    query = ("query($n: Int) { staffUsers(first: $n) { nodes { name timeZone twoFactor "
             "roles { name permissions } } } }")
    _post(app, token, query, n=1)  # warm-up: the token's first use writes its last use
    counts = []
    for size in (2, 5):
        statements = []

        def before(conn, cursor, statement, *args, _seen=statements):
            _seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            body = _post(app, token, query, n=size)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
        assert "errors" not in body and len(body["data"]["staffUsers"]["nodes"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_timeline_limit_null_is_the_default(app, seeded):
    """Found by the fuzzer: timeline(limit: null) compared None with an int (INTERNAL_ERROR)."""
    token, ids = seeded
    body = _post(app, token, 'query($id: ID) { account(id: $id) { timeline(limit: null) '
                             '{ kind title } } }', id=ids["account"])
    assert "errors" not in body, body
    assert {"note", "call"} <= {e["kind"] for e in body["data"]["account"]["timeline"]}
