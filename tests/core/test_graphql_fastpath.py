"""The fast query executor gives graphql-core's answer, byte for byte.

The oracle is graphql-core's own executor (``execution.FASTPATH = False``) run on the same
app, data, principal and document: every response of the fast path must equal it — data,
errors and their paths. The documents are hand-written (fragments, aliases, ``__typename``,
variables, permission refusals, bad cursors) and generated from the live schema by
hypothesis-graphql over the demo data of every enabled plugin.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from backhaul.core.graphql import execution
from backhaul.sdk.testing.auth import create_api_token, make_staff_user

ACCOUNTS = """
fragment Who on Account { id number name __typename }
query Page($first: Int!, $after: String) {
  accounts(first: $first, after: $after, sort: "-number") {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      ...Who
      n2: number
      status { key name meaning isDefault }
      address { oneLine city postalCode latitude building { name street } }
      contacts { name email phone isPrimary preferences account { number } }
      primaryContact { name }
      groups
      ... on Account { accountType createdAt }
    } }
  }
}"""

HAND_WRITTEN = [
    (ACCOUNTS, {"first": 50}),
    (ACCOUNTS, {"first": 3}),
    (ACCOUNTS, {"first": 0}),
    (ACCOUNTS, {"first": 500}),  # over the page size: a field error from the resolver
    (ACCOUNTS, {"first": 5, "after": "not a cursor"}),
    ("{ viewer { email kind readOnly permissions } __typename }", None),
    ("{ accountStatuses { nodes { key name colour meaning } } }", None),
    ("{ account(number: \"nope\") { id name } }", None),
    ("{ account { id } }", None),  # neither id nor number: an error
    ("{ addresses(first: 20) { totalCount nodes { oneLine currentAccount { name } "
     "occupancies { startedAt account { number } } } } }", None),
    ("{ buildings(first: 5) { nodes { name units(first: 3) { totalCount nodes { unit } } } } }",
     None),
    ("{ accounts(first: 5) { nodes { timeline(limit: 3) { kind title } } } }", None),
    ("{ accounts(first: 5) { nodes { timeline(limit: 0) { kind } } } }", None),
]


@pytest.fixture(scope="module")
def demo(make_app_module):
    app, headers = make_app_module
    return app, headers


@pytest.fixture(scope="module")
def make_app_module(backhaul_base_config, _backhaul_migrated):
    """One app with every plugin and its demo data, shared by the module (read-only tests)."""
    from backhaul.core import demo as demo_data
    from backhaul.core.app import create_app
    from backhaul.core.db import db
    from backhaul.core.plugins import discover
    from backhaul.sdk.testing.pytest_plugin import truncate_all

    app = create_app({**backhaul_base_config, "PLUGINS": sorted(discover()), "GRAPHQL_RATE_LIMIT": 0,
                      "QUEUE_PREFIX": f"{backhaul_base_config['QUEUE_PREFIX']}-{uuid.uuid4().hex[:8]}"})
    with app.app_context():
        truncate_all(app)
        demo_data.load(app)
        admin = make_staff_user(superuser=True)
        limited = make_staff_user(["accounts.account.view"])  # no address permission
        headers = {"admin": {"Authorization": f"Bearer {create_api_token(admin, 'read')}"},
                   "limited": {"Authorization": f"Bearer {create_api_token(limited, 'read')}"}}
        db.session.commit()
    yield app, headers
    with app.app_context():
        truncate_all(app)
        db.session.remove()
        db.engine.dispose()


def _both(app, headers, query, variables=None):
    """``(fast, graphql-core)`` responses as ``(status, JSON text)``."""
    body = {"query": query, "variables": variables}
    out = []
    for fast in (True, False):
        execution.FASTPATH = fast
        try:
            response = app.test_client().post("/graphql", json=body, headers=headers)
        finally:
            execution.FASTPATH = True
        text = json.dumps(response.get_json(), sort_keys=True)
        out.append((response.status_code, re.sub(r'"errorId": "[0-9a-f]+"', '"errorId": "…"',
                                                  text)))
    return out


@pytest.mark.parametrize("principal", ["admin", "limited"])
@pytest.mark.parametrize("case", range(len(HAND_WRITTEN)))
def test_hand_written_documents_answer_the_same(demo, principal, case):
    app, headers = demo
    query, variables = HAND_WRITTEN[case]
    fast, reference = _both(app, headers[principal], query, variables)
    assert fast == reference


def test_the_fast_path_answers_the_accounts_page(demo, monkeypatch):
    """The page really is served by the fast path (not by a silent fallback)."""
    from backhaul.core.graphql import fastpath

    app, headers = demo
    answered = []
    original = fastpath.execute_plan

    async def spy(*args, **kwargs):
        answered.append(await original(*args, **kwargs))
        return answered[-1]

    monkeypatch.setattr(fastpath, "execute_plan", spy)
    response = app.test_client().post("/graphql", json={"query": ACCOUNTS,
                                                        "variables": {"first": 50}},
                                      headers=headers["admin"])
    assert response.status_code == 200 and "errors" not in response.get_json()
    assert answered and answered[0]["accounts"]["edges"]


def _query_schema(app):
    from graphql import GraphQLSchema

    schema = app.extensions["backhaul.graphql"].schema
    return GraphQLSchema(query=schema.query_type, types=list(schema.type_map.values()),
                         directives=schema.directives)


@pytest.fixture(scope="module")
def queries(demo):
    app, _ = demo
    schema = _query_schema(app)
    return from_schema(schema, custom_scalars={
        "DateTime": st.just("2026-01-31T12:00:00Z").map(_string_node),
        "Date": st.just("2026-01-31").map(_string_node),
        "Long": st.integers(0, 2**40).map(_int_node),
        "JSON": st.just("{}").map(_string_node),
    }, allow_x00=False, allow_null=False)


def _string_node(value):
    import graphql

    return graphql.StringValueNode(value=value)


def _int_node(value):
    import graphql

    return graphql.IntValueNode(value=str(value))


@pytest.mark.timeout(240)
def test_generated_queries_answer_the_same(demo, queries):
    app, headers = demo

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(query=queries, principal=st.sampled_from(["admin", "limited"]))
    def check(query, principal):
        fast, reference = _both(app, headers[principal], query)
        assert fast == reference, query

    check()


def test_default_resolved_values_are_read_as_graphql_core_reads_them():
    """The fast path reads a level's default-resolved field in one go; its answer must be
    graphql-core's default resolver's for every source (mapping key, attribute, missing)."""
    from types import SimpleNamespace

    from graphql import default_field_resolver

    from backhaul.core.graphql.fastpath import _read

    info = SimpleNamespace(field_name="name")
    cases = [
        [SimpleNamespace(name="a"), SimpleNamespace(name="b")],   # one type, attributes
        [{"name": "a"}, {"other": 1}],                              # mappings, one missing
        [SimpleNamespace(name="a"), SimpleNamespace()],             # one attribute missing
        [{"name": "a"}, SimpleNamespace(name="b"), object()],      # mixed types
        [],
    ]
    for sources in cases:
        assert _read(sources, "name") == [default_field_resolver(s, info) for s in sources]


def test_async_resolvers_are_stepped_together_and_refused_when_unusual():
    """``_settle`` runs ``async def`` resolvers without tasks: every coroutine of a level
    reaches its first await before any future is awaited (so one batch answers them all),
    each round likewise; a coroutine that raises, or awaits anything but an asyncio future,
    makes the level fall back to graphql-core."""
    import asyncio

    from backhaul.core.graphql.fastpath import Fallback, _settle

    async def scenario():
        loop = asyncio.get_running_loop()
        batches: list[list[int]] = []
        queued: list[tuple[int, asyncio.Future]] = []

        def load(key):  # a tiny batched loader: answers everything queued in one callback
            future = loop.create_future()
            if not queued:
                loop.call_soon(flush)
            queued.append((key, future))
            return future

        def flush():
            batch, queued[:] = list(queued), []
            batches.append([k for k, _ in batch])
            for key, future in batch:
                future.set_result(key * 10)

        async def twice(key):
            first = await load(key)
            return first + await load(key + 1)

        values = [None, None, None]
        plain = load(7)
        await _settle([(values, 0, twice(1)), (values, 1, twice(2)), (values, 2, plain)])
        assert values == [10 + 20, 20 + 30, 70]
        assert batches == [[7, 1, 2], [2, 3]]  # two rounds, one batch each

        async def boom():
            await load(1)
            raise ValueError("resolver failed")

        async def sleeps():
            await asyncio.sleep(0)
            return 1

        for bad in (boom, sleeps):
            slots = [None, None]
            with pytest.raises(Fallback):
                await _settle([(slots, 0, twice(1)), (slots, 1, bad())])

    asyncio.run(scenario())
