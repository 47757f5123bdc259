"""What a saved report is, checked field by field: name, query, rows, columns, schedule.

:func:`clean` takes what a form or a GraphQL input holds and returns the values to store, or
raises :class:`ReportInvalid` with field-level messages (keys are the GraphQL input's field
names, which the form uses too). The query is checked against the live schema and its limits
(``check_query``); the rows path and every column path must name fields the query selects,
so a report that was saved always has something in each column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    parse,
)

from backhaul.sdk.graphql import check_query

#: bounds on what a person can save (and so on the work a run can cause, with the GraphQL
#: limits that check_query applies: cost, depth, page sizes)
MAX_QUERY_LENGTH = 10_000
MAX_COLUMNS = 40
MAX_RECIPIENTS = 10
PATH = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*(\.[_A-Za-z][_0-9A-Za-z]*)*$")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
FORMATS = ("attach", "inline")


class ReportInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@dataclass(frozen=True)
class Column:
    path: str
    heading: str


def parse_columns(text: str) -> list[dict]:
    """The form's columns box: one ``path | heading`` per line (heading optional)."""
    out = []
    for line in (text or "").splitlines():
        if line.strip():
            path, _, heading = line.partition("|")
            out.append({"path": path.strip(), "heading": heading.strip()})
    return out


def columns_text(columns: list[dict]) -> str:
    return "\n".join(f"{c['path']} | {c['heading']}" for c in columns)


def selection_tree(query: str) -> dict:
    """Response keys the query selects, as nested dicts (a leaf is ``{}``); fragments are
    merged in (a fragment's fields appear under each place it is spread)."""
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions
                 if d.kind == "fragment_definition"}

    def walk(selection_set, seen: frozenset) -> dict:
        tree: dict = {}
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                key = (sel.alias or sel.name).value
                child = walk(sel.selection_set, seen) if sel.selection_set else {}
                tree.setdefault(key, {}).update(child)
            elif isinstance(sel, InlineFragmentNode):
                _merge(tree, walk(sel.selection_set, seen))
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    _merge(tree, walk(frag.selection_set, seen | {sel.name.value}))
        return tree

    op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return walk(op.selection_set, frozenset())


def _merge(into: dict, other: dict) -> None:
    for key, value in other.items():
        _merge(into.setdefault(key, {}), value)


def _find(tree: dict, path: str) -> dict | None:
    node = tree
    for part in path.split("."):
        if part not in node:
            return None
        node = node[part]
    return node


def _check_paths(query: str, rows_path: str, columns: list[dict], errors: dict) -> list[dict]:
    tree = selection_tree(query)
    rows = _find(tree, rows_path) if PATH.match(rows_path or "") else None
    if rows is None:
        errors["rowsPath"] = ["name the list of rows with the fields the query selects, "
                              "e.g. billingInvoices.edges"]
        return []
    if not rows:
        errors["rowsPath"] = [f"'{rows_path}' is a single value: name the list that "
                              "holds the rows"]
        return []
    out, problems = [], []
    for col in columns:
        path, heading = col.get("path", "").strip(), (col.get("heading") or "").strip()
        leaf = _find(rows, path) if PATH.match(path) else None
        if leaf is None:
            problems.append(f"'{path}' is not selected under {rows_path} in the query")
        elif leaf:
            problems.append(f"'{path}' has fields of its own: choose one of "
                            f"{', '.join(sorted(leaf))}")
        elif len(heading) > 100:
            problems.append(f"the heading of '{path}' is longer than 100 characters")
        else:
            out.append({"path": path, "heading": heading or path})
    if not columns:
        problems.append("choose at least one column")
    if len(columns) > MAX_COLUMNS:
        problems.append(f"at most {MAX_COLUMNS} columns")
    if problems:
        errors["columns"] = problems
    return out


def _schedule(data: dict, errors: dict) -> dict:
    days = "".join(sorted(set(str(data.get("scheduleDays") or "").replace(",", ""))))
    time_ = (data.get("scheduleTime") or "").strip()
    recipients = [r.strip() for r in re.split(r"[,;\s]+", data.get("scheduleRecipients") or "")
                  if r.strip()]
    fmt = data.get("scheduleFormat") or "attach"
    if days and not set(days) <= set("1234567"):
        errors["scheduleDays"] = ["weekdays are 1 (Monday) to 7 (Sunday)"]
    if time_ and not TIME.match(time_):
        errors["scheduleTime"] = ["a time of day such as 07:00 (24-hour clock)"]
    bad = [r for r in recipients if not EMAIL.match(r) or len(r) > 254]
    if bad:
        errors["scheduleRecipients"] = [f"not an e-mail address: {', '.join(bad[:3])}"]
    elif len(recipients) > MAX_RECIPIENTS:
        errors["scheduleRecipients"] = [f"at most {MAX_RECIPIENTS} recipients"]
    if fmt not in FORMATS:
        errors["scheduleFormat"] = ["'attach' (a CSV file) or 'inline' (a table in the mail)"]
    wanted = [bool(days), bool(time_), bool(recipients)]
    if any(wanted) and not all(wanted):
        errors.setdefault("scheduleDays", []).append(
            "a schedule needs weekdays, a time and at least one recipient (or none of them "
            "to send nothing)")
    return {"schedule_days": days, "schedule_time": time_,
            "schedule_recipients": ", ".join(recipients), "schedule_format": fmt}


def clean(data: dict) -> dict:
    """Checked values for a :class:`~.models.Report` (not the owner); raises ReportInvalid."""
    errors: dict[str, list[str]] = {}
    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["a name of 1 to 100 characters"]
    query = data.get("query") or ""
    columns: list[dict] = []
    if len(query) > MAX_QUERY_LENGTH:
        errors["query"] = [f"at most {MAX_QUERY_LENGTH} characters (this one has "
                           f"{len(query)})"]
    else:
        problems = check_query(query)
        if problems:
            errors["query"] = problems
        else:
            columns = _check_paths(query, (data.get("rowsPath") or "").strip(),
                                   list(data.get("columns") or []), errors)
    values = {"name": name, "query": query, "rows_path": (data.get("rowsPath") or "").strip(),
              "columns": columns, **_schedule(data, errors)}
    if errors:
        raise ReportInvalid(errors)
    return values
