"""Cursor connections (Relay style) with ``totalCount``, and a small filter helper.

:func:`paginate` pages a ``select(Model)`` by *keyset*: the cursor carries the ordering values
of the last row seen, so pages stay stable while rows are added and a deep page costs the same
as the first. Cursors are opaque (base64 of JSON) and tied to the ordering they came from.
``totalCount`` is only counted when the client asks for it.

Ordering columns should be NOT NULL; the primary key is appended as the tie-breaker.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import InstrumentedAttribute
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from .errors import GraphQLUserError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Connection:
    """What a connection field resolves to: ``edges``, ``nodes``, ``pageInfo``, ``totalCount``."""

    def __init__(self, rows: list, cursors: list[str], has_next: bool, has_previous: bool,
                 count: Callable[[], int]):
        self.nodes = rows
        self.edges = [{"cursor": c, "node": r} for c, r in zip(cursors, rows, strict=True)]
        self.pageInfo = {"hasNextPage": has_next, "hasPreviousPage": has_previous,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None}
        self._count = count
        self._total: int | None = None

    @property
    def totalCount(self) -> int:  # noqa: N802 - the GraphQL field name
        if self._total is None:
            self._total = self._count()
        return self._total

    # plain-Python spellings for views and tests
    @property
    def page_info(self) -> dict:
        return self.pageInfo

    @property
    def total_count(self) -> int:
        return self.totalCount


def _page_sizes() -> tuple[int, int]:
    from flask import current_app, has_app_context

    if not has_app_context():
        return DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
    config = current_app.config
    return (int(config.get("GRAPHQL_DEFAULT_PAGE_SIZE", DEFAULT_PAGE_SIZE)),
            int(config.get("GRAPHQL_MAX_PAGE_SIZE", MAX_PAGE_SIZE)))


def _ordering(entity, order_by) -> list[tuple[str, Any, bool]]:
    """``[(attribute key, column, descending)]`` with the primary key appended."""
    mapper = sa.inspect(entity)
    items = [order_by] if isinstance(order_by, str | InstrumentedAttribute | UnaryExpression) \
        else list(order_by or ())
    out = []
    for item in items:
        descending = False
        if isinstance(item, str):
            descending, key = item.startswith("-"), item.lstrip("-")
            if key not in mapper.column_attrs:
                raise GraphQLUserError(f"cannot sort by '{key}'")
            column = getattr(entity, key)
        else:
            if isinstance(item, UnaryExpression):
                descending = item.modifier is operators.desc_op
                item = item.element
            key = getattr(item, "key", None)
            if key not in mapper.column_attrs:
                raise TypeError(f"order_by items must be attributes of {mapper.class_.__name__} "
                                f"(optionally .desc()) or their names, got {item!r}")
            column = getattr(entity, key)
        out.append((key, column, descending))
    for column in mapper.primary_key:
        key = mapper.get_property_by_column(column).key
        if key not in [k for k, _, _ in out]:
            out.append((key, getattr(entity, key), False))
    return out


def _encode_value(value):
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"s": str(value)}


def _decode_value(value):
    if isinstance(value, dict):
        (tag, text), = value.items()
        return {"dt": datetime.fromisoformat, "d": date.fromisoformat, "dec": Decimal,
                "s": str}[tag](text)
    return value


def encode_cursor(keys: Sequence[str], values: Sequence) -> str:
    payload = json.dumps({"k": list(keys), "v": [_encode_value(v) for v in values]},
                         separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[str]) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if payload["k"] != list(keys) or len(payload["v"]) != len(keys):
            raise ValueError
        return [_decode_value(v) for v in payload["v"]]
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
        raise GraphQLUserError("The 'after' cursor is not valid for this list: use an "
                               "endCursor from the same query and sort order.") from None


def _after(ordering, values):
    """Rows strictly after ``values`` in ``ordering`` (keyset predicate)."""
    clauses = []
    for i, (_, column, descending) in enumerate(ordering):
        equal = [c == v for (_, c, _), v in zip(ordering[:i], values[:i], strict=True)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(sa.and_(*equal, step))
    return sa.or_(*clauses)


def paginate(stmt: sa.Select, first: int | None = None, after: str | None = None,
             order_by=None, *, max_first: int | None = None, session=None) -> Connection:
    """One page of ``stmt`` (a ``select(Model)``, filters applied) as a :class:`Connection`.

    :param first: page size (default ``GRAPHQL_DEFAULT_PAGE_SIZE``); more than ``max_first``
        (default ``GRAPHQL_MAX_PAGE_SIZE``) is refused with a message.
    :param after: an ``endCursor`` from the previous page.
    :param order_by: attribute(s) of the model, ``Model.at.desc()`` or ``"-at"`` strings.
    """
    from backhaul.core.db import db

    session = session or db.session
    default_size, max_size = _page_sizes()
    max_first = max_first or max_size
    first = default_size if first is None else first
    if not 0 <= first <= max_first:
        raise GraphQLUserError(f"'first' must be between 0 and {max_first}, got {first}.")
    entity = stmt.column_descriptions[0].get("entity")
    if entity is None or len(stmt.column_descriptions) != 1:
        raise TypeError("paginate() needs select(Model) (one mapped class)")
    ordering = _ordering(entity, order_by)
    keys = [k for k, _, _ in ordering]
    base = stmt.order_by(None)
    page = base.order_by(*[c.desc() if d else c.asc() for _, c, d in ordering])
    if after:
        page = page.where(_after(ordering, decode_cursor(after, keys)))
    rows = list(session.scalars(page.limit(first + 1))) if first else []
    has_next = len(rows) > first
    rows = rows[:first]
    cursors = [encode_cursor(keys, [getattr(r, k) for k in keys]) for r in rows]

    def count() -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))

    return Connection(rows, cursors, has_next, bool(after), count)


def sort_order(sort: str | None, sorts: Mapping[str, Any], default: str):
    """The ``order_by`` for :func:`paginate` named by a connection's ``sort`` argument.

    ``sorts`` maps each published key (``"name"``, ``"-name"``, ``"createdAt"`` ...) to an
    attribute or ``Model.attr.desc()``; a key not in it is refused with the keys a client may
    use, never turned into SQL. Publish the same keys in the SDL description of ``sort``.
    """
    key = default if sort is None or sort == "" else sort
    if key not in sorts:
        raise GraphQLUserError(f"Cannot sort by '{sort}'; use one of {', '.join(sorts)}.")
    return sorts[key]


def paginate_list(items: Sequence, first: int | None = None, after: str | None = None,
                  sort: str | None = None, sorts: Mapping[str, Callable[[Any], Any]] | None = None,
                  default_sort: str | None = None, *, max_first: int | None = None) -> Connection:
    """One page of an in-memory sequence (a plugin registry, a computed list) as a Connection.

    For lists that are not table rows. ``sorts`` maps each published key to a key function;
    a leading ``-`` in the key means descending (``{"name": ..., "-name": ...}`` — give both).
    Cursors carry the offset and the sort key, so a cursor from another order is refused.
    """
    default_size, max_size = _page_sizes()
    max_first = max_first or max_size
    first = default_size if first is None else first
    if not 0 <= first <= max_first:
        raise GraphQLUserError(f"'first' must be between 0 and {max_first}, got {first}.")
    rows = list(items)
    key = default_sort if sort is None or sort == "" else sort
    if key is not None:
        if not sorts or key not in sorts:
            raise GraphQLUserError(f"Cannot sort by '{sort}'; use one of "
                                   f"{', '.join(sorts or {}) or 'nothing'}.")
        rows.sort(key=sorts[key], reverse=key.startswith("-"))
    keys = ["#list", key or ""]
    offset = decode_cursor(after, keys)[0] if after else -1
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < -1:
        raise GraphQLUserError("The 'after' cursor is not valid for this list.")
    start = offset + 1
    page = rows[start:start + first]
    cursors = [encode_cursor(keys, [start + i, key or ""]) for i in range(len(page))]
    return Connection(page, cursors, start + first < len(rows), start > 0, lambda: len(rows))


def connection_sdl(node: str, rows: str) -> str:
    """The described ``<node>Edge``/``<node>Connection`` SDL pair for a list field of
    ``node`` (``rows``: the plural an integrator reads, e.g. "devices"). Append it to the
    plugin's SDL; the field returns :func:`paginate` / :func:`paginate_list`'s Connection."""
    return f'''
"One of the {rows} of a page, with its cursor."
type {node}Edge implements Edge {{
  "Opaque; pass it as 'after' to get the {rows} after this one (same filter and sort)."
  cursor: String!
  "One of the {rows}."
  node: {node}!
}}
"A page of {rows}, with how many match the filter in all."
type {node}Connection implements Connection {{
  "The page's {rows} with their cursors."
  edges: [{node}Edge!]!
  "The page's {rows}."
  nodes: [{node}!]!
  "Whether another page follows, and the cursor to ask for it."
  pageInfo: PageInfo!
  "How many {rows} match the filter, over all pages (counted only when asked for)."
  totalCount: Int!
}}
'''


# ------------------------------------------------------------------------------ filters
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": lambda c, v: c == v, "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v, "lte": lambda c, v: c <= v,
    "gt": lambda c, v: c > v, "gte": lambda c, v: c >= v,
    "in": lambda c, v: c.in_(list(v)),
    "contains": lambda c, v: c.contains(v, autoescape=True),
    "icontains": lambda c, v: c.icontains(v, autoescape=True),
    "startswith": lambda c, v: c.startswith(v, autoescape=True),
}


def refuse_nul(values: Any, name: str = "filter") -> None:
    """Refuse text holding NUL characters (PostgreSQL cannot compare or store them): a user
    error naming the field, never a database error. Looks into dicts and lists."""
    if isinstance(values, str):
        if "\x00" in values:
            raise GraphQLUserError(f"'{name}' must not contain NUL characters.")
    elif isinstance(values, Mapping):
        for key, value in values.items():
            refuse_nul(value, f"{name}.{key}")
    elif isinstance(values, list | tuple):
        for value in values:
            refuse_nul(value, name)


def apply_filters(stmt: sa.Select, values: Mapping[str, Any] | None,
                  fields: Mapping[str, Any]) -> sa.Select:
    """Add a WHERE clause per given filter value; ``None`` values are skipped.
    Text with NUL characters is refused (:func:`refuse_nul`).

    ``fields`` maps each accepted name to a column (equality), ``(column, op)`` with op one
    of ``eq ne lt lte gt gte in contains icontains startswith``, or a function
    ``(stmt, value) -> stmt``. A name not in ``fields`` is refused, never turned into SQL.
    """
    refuse_nul(values or {})
    for name, value in (values or {}).items():
        if value is None:
            continue
        if name not in fields:
            raise GraphQLUserError(f"unknown filter '{name}'; known: {', '.join(fields)}")
        spec = fields[name]
        if callable(spec) and not isinstance(spec, sa.sql.ClauseElement | InstrumentedAttribute):
            stmt = spec(stmt, value)
            continue
        column, op = spec if isinstance(spec, tuple) else (spec, "eq")
        stmt = stmt.where(_OPS[op](column, value))
    return stmt
