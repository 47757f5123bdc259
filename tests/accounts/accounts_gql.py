"""Small GraphQL helpers for the accounts tests."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa

ALL_PERMISSIONS = ["accounts.account.view", "accounts.account.edit", "accounts.status.manage",
                   "accounts.address.view", "accounts.address.edit", "accounts.address.import",
                   "accounts.note.edit", "accounts.call.edit", "accounts.event.manage",
                   "accounts.tenant.move"]


class Gql:
    """``gql(query, **variables)`` -> ``data``; asserts no top-level errors unless raw=True."""

    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def raw(self, query: str, **variables):
        response = self.client.post("/graphql", json={"query": query, "variables": variables},
                                    headers=self.headers)
        return response.status_code, response.get_json()

    def __call__(self, query: str, **variables):
        status, body = self.raw(query, **variables)
        assert status == 200 and "errors" not in body, body
        return body["data"]


@contextlib.contextmanager
def count_statements(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
