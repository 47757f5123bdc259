"""Message templates: Jinja's sandbox, strict about unknown variables, checked when saved.

Staff write templates, so they run in :class:`~jinja2.sandbox.SandboxedEnvironment` (no access
to Python internals) with :class:`~jinja2.StrictUndefined` (an unknown variable is an error,
never an empty string). A template is validated when it is *saved*, never discovered broken
at send time:

1. it must parse and compile (syntax, unknown filters) -> the error's line;
2. every variable path it reads (``invoice.total``) must be in the event's catalogue, in any
   branch, taken or not -> the line of the first unknown one;
3. it must render against the catalogue's example values -> the line that failed.

Context values are wrapped in :class:`Vars` so that ``invoice.items`` means the variable
``items`` rather than ``dict.items``. Plain functions, no Flask.
"""
from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes

from .api import Variable
from .bounds import (
    DEFAULT_OUTPUT_LIMIT,
    OUTPUT_LIMITS,
    BoundedSandbox,
    BudgetExceeded,
    bounded_range,
    bounded_render,
)

TEMPLATE_FILENAME = "<template>"


class TemplateProblem(ValueError):
    """A template that cannot be saved; ``field`` and ``line`` say where."""

    def __init__(self, field: str, line: int | None, message: str):
        self.field, self.line, self.message = field, line, message
        where = f"{field}, line {line}" if line else field
        super().__init__(f"{where}: {message}")


class Vars:
    """Read-only view of a dict for templates: attributes and items are its keys only."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            return wrap(self._data[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return wrap(self._data[key])

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def __setattr__(self, name, value):
        raise AttributeError("template variables are read-only")

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self._data.items())


def wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Vars(value)
    if isinstance(value, list | tuple):
        return [wrap(v) for v in value]
    return value


def _date_filter(value: date | datetime | None, fmt: str = "%Y-%m-%d") -> str:
    return "" if value is None else value.strftime(fmt)


def make_env(html: bool) -> BoundedSandbox:
    """The sandbox, bounded in loops, time, arithmetic and output (see :mod:`.bounds`)."""
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=html,
                         keep_trailing_newline=True)
    env.filters["date"] = _date_filter
    env.globals["range"] = bounded_range
    return env


_ENVS = {False: make_env(False), True: make_env(True)}


def nest(flat: Mapping[str, Any]) -> dict:
    """``{"invoice.total": x}`` -> ``{"invoice": {"total": x}}``."""
    out: dict = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"variable '{dotted}' lies under a non-object variable")
        node[parts[-1]] = value
    return out


def merge(base: dict, extra: Mapping) -> dict:
    """Deep-merge ``extra`` over ``base`` (both nested dicts); returns a new dict."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def example_context(variables: Iterable[Variable]) -> dict:
    return nest({v.name: v.example for v in variables})


def _compile(source: str, field: str, html: bool):
    try:
        return _ENVS[html].from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(field, exc.lineno, exc.message or str(exc)) from None


def _path(node: nodes.Node) -> tuple[str, list[str]] | None:
    """``invoice.total`` (Getattr/Getitem chains on a Name) -> ("invoice", ["total"])."""
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return node.name, list(reversed(parts))
        else:
            return None


def _known(path: list[str], declared: set[tuple[str, ...]]) -> bool:
    """A path is known when it is declared, leads to a declared one, or lies under a leaf."""
    tup = tuple(path)
    return any(d[:len(tup)] == tup or tup[:len(d)] == d for d in declared)


def check_variables(source: str, variables: Iterable[Variable], field: str = "body",
                    html: bool = False) -> None:
    """Every context variable the template reads, in every branch, must be in the catalogue."""
    env = _ENVS[html]
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(field, exc.lineno, exc.message or str(exc)) from None
    free = meta.find_undeclared_variables(ast)
    declared = {tuple(v.name.split(".")) for v in variables}
    problems = []
    for node in ast.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        found = _path(node)
        if found is None or found[0] not in free:
            continue
        path = [found[0], *found[1]]
        if not _known(path, declared):
            problems.append((node.lineno, ".".join(path)))
    if problems:
        line, name = min(problems, key=lambda p: (p[0], -len(p[1])))
        raise TemplateProblem(field, line, f"unknown variable '{name}' (see the variables "
                                           "available for this event)")


def _failing_line(exc: BaseException) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == TEMPLATE_FILENAME:
            line = frame.lineno
    return line


def render(source: str, context: Mapping, field: str = "body", html: bool = False,
           limit: int | None = None) -> str:
    """Render ``source`` with ``context``; any failure is a :class:`TemplateProblem`.

    Bounded: at most ``limit`` characters of output (default per ``field``, see
    :data:`.bounds.OUTPUT_LIMITS`), and the loop, time and arithmetic bounds of
    :mod:`.bounds` — a template over them is refused, on save and on send alike.
    """
    template = _compile(source, field, html)
    limit = limit or OUTPUT_LIMITS.get(field, DEFAULT_OUTPUT_LIMIT)
    try:
        return bounded_render(template, {k: wrap(v) for k, v in context.items()}, limit)
    except BudgetExceeded as exc:
        raise TemplateProblem(field, _failing_line(exc), str(exc)) from None
    except TemplateError as exc:
        raise TemplateProblem(field, _failing_line(exc), str(exc.message or exc)) from None
    except Exception as exc:  # a TypeError in a filter, a division by zero...
        raise TemplateProblem(field, _failing_line(exc),
                              f"{type(exc).__name__}: {exc}") from None


def validate(source: str, variables: Iterable[Variable], field: str = "body",
             html: bool = False, example: Mapping | None = None) -> str:
    """Run the three save-time checks; returns the rendering with the example values."""
    variables = list(variables)
    _compile(source, field, html)
    check_variables(source, variables, field, html)
    return render(source, example if example is not None else example_context(variables),
                  field, html)


def one_line(text: str) -> str:
    """Subjects are one line: collapse any whitespace a template produced."""
    return " ".join(text.split())
