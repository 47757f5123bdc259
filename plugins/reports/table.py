"""A report's answer as a table: rows from the GraphQL data, sorting, CSV.

Plain functions, no Flask. The CSV is safe to open in a spreadsheet: a cell that begins with
``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which some spreadsheets skip before
reading a formula) is prefixed with a single quote, OWASP's advice against CSV injection —
a customer who names their account ``=HYPERLINK(...)`` does not get a formula run on the
office manager's machine.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

#: rows kept from one run (the GraphQL page sizes bound it already; this bounds the rest)
MAX_ROWS = 10_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    headings: list[str]
    rows: list[list[str]]
    errors: list[str] = field(default_factory=list)
    truncated: bool = False
    #: nothing ran (the owner is no longer an active staff member)
    refused: bool = False


def _get(value, path: str):
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def cell(value) -> str:
    """A value as text: scalars as they are, money and objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "formatted" in value:
        return str(value["formatted"])
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def build(response: dict, rows_path: str, columns: list[dict]) -> Table:
    """The table for one GraphQL response. Field errors (a permission the owner lacks) are
    kept as messages: the columns they hit stay empty."""
    errors = [e.get("message", "error") for e in response.get("errors") or []]
    found = _get(response.get("data") or {}, rows_path)
    items = found if isinstance(found, list) else []
    if found is not None and not isinstance(found, list):
        errors.append(f"'{rows_path}' is not a list in the answer")
    table = Table([c["heading"] for c in columns], [], list(dict.fromkeys(errors)))
    table.refused = any((e.get("extensions") or {}).get("code") == "OWNER_INACTIVE"
                        for e in response.get("errors") or [])
    for item in items[:MAX_ROWS]:
        table.rows.append([cell(_get(item, c["path"])) for c in columns])
    table.truncated = len(items) > MAX_ROWS
    return table


def _sort_key(value: str):
    try:
        return (0, Decimal(value.replace(",", "")), "")
    except (InvalidOperation, ValueError):
        return (1, Decimal(0), value.casefold())


def sort(table: Table, column: int, descending: bool = False) -> Table:
    """Sort by one column: numbers as numbers, then text without case; empty cells last."""
    if not 0 <= column < len(table.headings):
        return table
    full = [r for r in table.rows if r[column] != ""]
    empty = [r for r in table.rows if r[column] == ""]
    full.sort(key=lambda r: _sort_key(r[column]), reverse=descending)
    return Table(table.headings, full + empty, table.errors, table.truncated, table.refused)


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.headings])
    for row in table.rows:
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue()


def to_text(table: Table, limit: int = 200) -> str:
    """A plain-text table for an e-mail body (the first ``limit`` rows)."""
    rows = [table.headings, *table.rows[:limit]]
    widths = [min(max(len(r[i]) for r in rows), 40) for i in range(len(table.headings))]
    lines = ["  ".join(c[:40].ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if len(table.rows) > limit:
        lines.append(f"... and {len(table.rows) - limit} more rows")
    return "\n".join(lines)
