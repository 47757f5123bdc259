"""Batched loading: a list with nested objects costs a constant number of SQL queries.

Within one GraphQL request, ``load(Maker, widget.maker_id)`` called by 50 sibling resolvers
does not run 50 queries: each call returns a future, the keys are collected while the
executor walks the list, and one ``SELECT ... WHERE id IN (...)`` answers them all (the
DataLoader pattern, on the event loop the endpoint runs the query in). Results are cached for
the request, keyed by ``(model, column, key)``.

Resolvers return the awaitable (or ``await`` it in an ``async def`` resolver)::

    @widget.field("maker")
    def resolve_maker(widget, info):
        return load(Maker, widget.maker_id)

    @widget.field("parts")
    def resolve_parts(widget, info):
        return load_related(Part, "widget_id", widget.id)
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
from collections import defaultdict
from collections.abc import Awaitable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

#: Keys per ``IN (...)`` query; a larger batch runs in several queries.
CHUNK = 500

_current: contextvars.ContextVar[Loader | None] = contextvars.ContextVar(
    "backhaul_graphql_loader", default=None)


class Loader:
    """Per-request batched loader. One is created for every GraphQL request."""

    def __init__(self, session=None):
        self._session = session
        self._cache: dict[tuple, asyncio.Future] = {}
        self._queued: dict[tuple, dict[Any, asyncio.Future]] = defaultdict(dict)
        self._scheduled = False
        self._closed = False
        self._postgresql: bool | None = None
        self.batches = 0  # queries run, for tests and diagnostics

    def close(self) -> None:
        """The request is over: a batch still scheduled on the event loop does nothing."""
        self._closed = True

    @property
    def session(self):
        if self._session is None:
            from backhaul.core.db import db

            return db.session
        return self._session

    # ------------------------------------------------------------------ public API
    def load(self, model, key, column: str | None = None) -> Awaitable:
        """The row of ``model`` whose ``column`` (default: the primary key) equals ``key``,
        or ``None``."""
        return self._future(model, column or _pk(model), key, many=False)

    def load_many(self, model, keys: Iterable, column: str | None = None) -> Awaitable[list]:
        """Rows for each of ``keys`` (``None`` where missing), in the order of ``keys``."""
        futures = [self.load(model, key, column) for key in keys]
        return _gather(futures)

    def load_related(self, model, column: str, key) -> Awaitable[list]:
        """Every row of ``model`` whose ``column`` equals ``key`` (one-to-many), by primary key."""
        return self._future(model, column, key, many=True)

    def prime(self, model, obj, column: str | None = None) -> None:
        """Seed the cache with an already loaded row."""
        column = column or _pk(model)
        future = self._loop().create_future()
        future.set_result(obj)
        self._cache.setdefault((model, column, False, getattr(obj, column)), future)

    # ------------------------------------------------------------------ batching
    def _loop(self):
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("batched loading needs a running GraphQL request: call load() "
                               "from a resolver, not from plain code") from None

    def _future(self, model, column: str, key, many: bool) -> Awaitable:
        cache_key = (model, column, many, key)
        future = self._cache.get(cache_key)
        if future is not None:
            return future
        loop = self._loop()
        future = loop.create_future()
        if key is None:
            future.set_result([] if many else None)
            return future
        self._cache[cache_key] = future
        self._queued[(model, column, many)][key] = future
        if not self._scheduled:
            self._scheduled = True
            # Let every sibling resolver of this level queue its key before the query runs.
            loop.call_soon(self._defer, 3)
        return future

    def _defer(self, hops: int) -> None:
        if self._closed:
            return
        if hops > 0:
            asyncio.get_running_loop().call_soon(self._defer, hops - 1)
            return
        self._scheduled = False
        queued, self._queued = self._queued, defaultdict(dict)
        for (model, column, many), futures in queued.items():
            try:
                self._fetch(model, column, many, futures)
            except Exception as exc:
                for future in futures.values():
                    if not future.done():
                        future.set_exception(exc)

    def _among(self, attr, keys: list):
        """``attr IN keys``, as an array parameter on PostgreSQL for plain key types."""
        if self._postgresql is None:
            self._postgresql = self.session.get_bind().dialect.name == "postgresql"
        if self._postgresql and isinstance(attr.type, sa.Integer | sa.String):
            return _any_of(attr, keys)
        return attr.in_(keys)

    def _fetch(self, model, column: str, many: bool, futures: dict) -> None:
        attr = getattr(model, column)
        keys = list(futures)
        found: dict[Any, Any] = defaultdict(list) if many else {}
        for start in range(0, len(keys), CHUNK):
            stmt = sa.select(model).where(self._among(attr, keys[start:start + CHUNK]))
            if many:
                stmt = stmt.order_by(*sa.inspect(model).primary_key)
            self.batches += 1
            for row in self.session.scalars(stmt):
                value = getattr(row, column)
                if many:
                    found[value].append(row)
                else:
                    found[value] = row
        for key, future in futures.items():
            if not future.done():
                future.set_result(list(found.get(key, ())) if many else found.get(key))


def _any_of(attr, keys: list):
    """``attr = ANY(:keys)``: one array parameter, so the SQL text is the same for any number
    of keys (compiled once, prepared by the driver) where ``IN`` renders a parameter per key."""
    return attr == sa.any_(sa.bindparam(None, keys, type_=ARRAY(attr.type)))


@functools.cache
def _pk(model) -> str:
    mapper = sa.inspect(model)
    if len(mapper.primary_key) != 1:
        raise TypeError(f"{mapper.class_.__name__} has a composite primary key: name the "
                        "column to load by")
    return mapper.get_property_by_column(mapper.primary_key[0]).key


async def _gather(futures):
    return [await f for f in futures]


# ------------------------------------------------------------------ request context
def current_loader() -> Loader:
    loader = _current.get()
    if loader is None:
        raise RuntimeError("no GraphQL request is running: batched loading is only available "
                           "inside resolvers")
    return loader


def use_loader(loader: Loader) -> contextvars.Token:
    return _current.set(loader)


def reset_loader(token: contextvars.Token) -> None:
    _current.reset(token)


def load(model, key, column: str | None = None) -> Awaitable:
    """``current_loader().load(...)``: see :meth:`Loader.load`."""
    return current_loader().load(model, key, column)


def load_many(model, keys: Iterable, column: str | None = None) -> Awaitable[list]:
    return current_loader().load_many(model, keys, column)


def load_related(model, column: str, key) -> Awaitable[list]:
    return current_loader().load_related(model, column, key)
