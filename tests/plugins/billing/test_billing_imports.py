"""The billing package reads top-down: no import circle among its modules (issue 9 #6).

Every ``from .x import`` and ``from . import x`` — at module level *and* inside functions
(a function-level import is still a dependency) — is an edge; the graph must be acyclic.
The circle this replaces: ledger -> delinquency -> fees -> invoices -> autopay -> ledger.
"""
from __future__ import annotations

import ast
from pathlib import Path

import backhaul.plugins.billing as billing

PACKAGE = Path(billing.__file__).parent
SKIP = {"__init__"}  # the plugin's entry: it wires everything, nobody imports it


def edges() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - SKIP
    graph = {m: set() for m in modules}
    for module in modules:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    targets = {node.module.split(".")[0]}
                else:
                    targets = {alias.name for alias in node.names}
                graph[module] |= targets & modules
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_billing_modules_import_each_other_without_a_circle():
    cycle = find_cycle(edges())
    assert cycle is None, " -> ".join(cycle)


def test_the_checker_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
