"""Server-side list pages: pagination, sorting, filters and text search from request args.

:func:`list_page` turns a ``select()`` and the query string into one page of rows plus what the
``macros/lists.html`` macros need to draw headers, filter bar and pagination. Only the sort
keys and filters the view declares are honoured: anything else in the query string is ignored
(never turned into SQL), a non-numeric or out-of-range page number is clamped.

It runs without Flask when ``args`` and ``base_url`` are given, so it is tested directly.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

MAX_SEARCH_TERMS = 5
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class Filter:
    """A filter offered in the filter bar.

    :param column: compared for equality with the chosen value (ignored when ``apply`` is set).
    :param choices: ``[(value, label), ...]``; a value outside them is ignored. Without
        choices the bar shows a text input.
    :param apply: ``apply(stmt, value) -> stmt`` for anything beyond equality.
    """

    column: Any = None
    label: str | None = None
    choices: Sequence[tuple[Any, str]] | None = None
    apply: Callable[[Any, str], Any] | None = None


@dataclass(frozen=True)
class FilterState:
    name: str
    label: str
    choices: list[tuple[str, str]] | None
    value: str | None


@dataclass
class ListPage:
    """One page of a list, with what the list macros need to link to the others."""

    rows: list
    total: int
    page: int
    per_page: int
    sort: str | None
    descending: bool
    q: str
    searchable: bool
    filters: list[FilterState]
    sortable_keys: frozenset[str]
    base_url: str = ""
    args: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def active_filters(self) -> dict[str, str]:
        return {f.name: f.value for f in self.filters if f.value}

    @property
    def sort_arg(self) -> str:
        if not self.sort:
            return ""
        return f"-{self.sort}" if self.descending else self.sort

    def is_sortable(self, key: str) -> bool:
        return key in self.sortable_keys

    def sort_state(self, key: str) -> str | None:
        """``"ascending"``/``"descending"`` for the sorted column (an ``aria-sort`` value)."""
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    def url(self, **changes: Any) -> str:
        """This list's URL with some arguments changed (``None`` or "" removes one)."""
        args = dict(self.args)
        for key, value in changes.items():
            if value is None or value == "":
                args.pop(key, None)
            else:
                args[key] = str(value)
        if args.get("page") == "1":
            del args["page"]
        return f"{self.base_url}?{urlencode(args)}" if args else self.base_url or "?"

    def sort_url(self, key: str) -> str:
        """Sort by ``key`` ascending; by ``key`` descending when already ascending."""
        value = f"-{key}" if self.sort == key and not self.descending else key
        return self.url(sort=value, page=None)

    def clear_url(self) -> str:
        return self.url(q=None, page=None, **{f.name: None for f in self.filters})

    def page_numbers(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last and ``around`` either side; None = gap."""
        wanted = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in numbers:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def list_page(stmt: sa.Select, *, sortable: Mapping[str, Any] | None = None,
              filters: Mapping[str, Any] | None = None, search: Iterable[Any] = (),
              per_page: int = 25, default_sort: str | None = None,
              args: Mapping[str, str] | None = None, base_url: str | None = None,
              session: Any = None) -> ListPage:
    """Run ``stmt`` for the page the request asks for.

    :param sortable: ``{"name": Account.name, ...}``: the only columns ``?sort=`` may name
        (``?sort=-name`` sorts descending). An unknown key is ignored.
    :param filters: ``{"status": Account.status}`` or ``{"status": Filter(...)}``.
    :param search: columns matched (case-insensitive substring) against ``?q=``; each word
        must match at least one column.
    :param default_sort: e.g. ``"-created_at"`` when ``?sort=`` is absent or unknown.
    :param args: the query string (default ``request.args``); ``base_url`` defaults to
        ``request.path``; ``session`` to ``db.session``.
    """
    if args is None or base_url is None:
        from flask import request

        args = request.args if args is None else args
        base_url = request.path if base_url is None else base_url
    if session is None:
        from backhaul.core.db import db

        session = db.session
    sortable = dict(sortable or {})
    raw = {k: v for k, v in args.items() if isinstance(v, str)}
    kept: dict[str, str] = {}

    q = " ".join(raw.get("q", "").split())[:MAX_QUERY_LENGTH]
    search = list(search)
    if q and search:
        stmt = _apply_search(stmt, search, q)
        kept["q"] = q

    states = []
    for name, spec in (filters or {}).items():
        spec = spec if isinstance(spec, Filter) else Filter(column=spec)
        choices = [(str(v), str(label)) for v, label in spec.choices] if spec.choices else None
        value = raw.get(name, "").strip() or None
        if value is not None and choices is not None and value not in {v for v, _ in choices}:
            value = None
        if value is not None:
            stmt = spec.apply(stmt, value) if spec.apply else stmt.where(spec.column == value)
            kept[name] = value
        states.append(FilterState(name, spec.label or name.replace("_", " ").capitalize(),
                                  choices, value))

    sort, descending = _parse_sort(raw.get("sort", ""), sortable)
    if sort is not None:
        kept["sort"] = f"-{sort}" if descending else sort
    elif default_sort:
        sort, descending = _parse_sort(default_sort, sortable)

    total = session.scalar(sa.select(sa.func.count()).select_from(
        stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(_int(raw.get("page"), 1), 1), pages)
    if page > 1:
        kept["page"] = str(page)

    ordered = stmt
    if sort is not None:
        column = sortable[sort]
        ordered = stmt.order_by(None).order_by(column.desc() if descending else column.asc())
    ordered = ordered.order_by(*_tiebreak(stmt))
    result = session.execute(ordered.limit(per_page).offset((page - 1) * per_page))
    rows = list(result.scalars() if _single_entity(stmt) else result)

    return ListPage(rows=rows, total=total, page=page, per_page=per_page, sort=sort,
                    descending=descending, q=q, searchable=bool(search), filters=states,
                    sortable_keys=frozenset(sortable), base_url=base_url, args=kept)


def _parse_sort(value: str, sortable: Mapping[str, Any]) -> tuple[str | None, bool]:
    descending = value.startswith("-")
    key = value[1:] if descending else value
    return (key, descending) if key in sortable else (None, False)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _apply_search(stmt, columns: list, q: str):
    for term in q.split()[:MAX_SEARCH_TERMS]:
        pattern = f"%{_escape_like(term)}%"
        stmt = stmt.where(sa.or_(*(sa.cast(c, sa.String).ilike(pattern, escape="\\")
                                   for c in columns)))
    return stmt


def _single_entity(stmt) -> bool:
    descriptions = stmt.column_descriptions
    return len(descriptions) == 1 and descriptions[0].get("entity") is not None \
        and descriptions[0].get("expr") is descriptions[0].get("entity")


def _tiebreak(stmt) -> list:
    """The primary key of the first selected entity, so that pages never overlap or skip."""
    for desc in stmt.column_descriptions:
        entity = desc.get("entity")
        if entity is not None:
            mapper = sa.inspect(entity, raiseerr=False)
            if mapper is not None and hasattr(mapper, "primary_key"):
                return list(mapper.primary_key)
    return []
