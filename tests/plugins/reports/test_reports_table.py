"""The table without Flask: cells, numeric sorting, OWASP's CSV-injection escaping."""
from __future__ import annotations

import csv
import io

from backhaul.plugins.reports import table


def _table(rows):
    return table.Table(["A", "B"], [list(r) for r in rows])


def test_numbers_sort_as_numbers_text_without_case_empty_last():
    t = _table([("10", "b"), ("9", "B"), ("-1.5", "a"), ("", "c"), ("1,000", "Ä")])
    assert [r[0] for r in table.sort(t, 0).rows] == ["-1.5", "9", "10", "1,000", ""]
    assert [r[0] for r in table.sort(t, 0, descending=True).rows] == \
        ["1,000", "10", "9", "-1.5", ""]
    assert [r[1] for r in table.sort(t, 1).rows] == ["a", "b", "B", "c", "Ä"]
    assert table.sort(t, 7).rows == t.rows  # an unknown column leaves the order


def test_every_formula_start_is_escaped_and_nothing_else():
    hostile = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]
    harmless = ["1", "a=b", "x-1", " =", "mail@example.net"]
    t = table.Table(["=head"], [[v] for v in hostile + harmless])
    parsed = [row[0] for row in csv.reader(io.StringIO(table.to_csv(t)))]
    assert parsed[0] == "'=head"
    assert parsed[1:len(hostile) + 1] == ["'" + v for v in hostile]
    assert parsed[len(hostile) + 1:] == harmless


def test_rows_from_an_answer():
    answer = {"data": {"list": {"edges": [
        {"node": {"n": "A1", "total": {"amount": 5, "currency": "USD", "formatted": "0.05 USD"},
                  "ok": True, "tags": ["x"]}},
        {"node": {"n": None, "total": None, "ok": False, "tags": []}}]}},
        "errors": [{"message": "You need the permission 'x'."}] * 2}
    cols = [{"path": p, "heading": p} for p in ("node.n", "node.total", "node.ok", "node.tags")]
    t = table.build(answer, "list.edges", cols)
    assert t.rows == [["A1", "0.05 USD", "yes", '["x"]'], ["", "", "no", "[]"]]
    assert t.errors == ["You need the permission 'x'."]
    assert table.build({"data": {"list": {"edges": 3}}}, "list.edges", cols).errors == \
        ["'list.edges' is not a list in the answer"]
