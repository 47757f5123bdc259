"""One explicit rounding rule: only ``rating.py`` rounds money, half to even.

Scans billing's source: no other module may call ``round()``, ``.quantize()``,
``Money.multiply()`` or name a ``ROUND_*`` mode; the property tests in
``test_billing_properties.py`` check that ``rating`` agrees with exact arithmetic.
"""
from __future__ import annotations

import ast
from pathlib import Path

import backhaul.plugins.billing as billing
from backhaul.plugins.billing import rating

SOURCE = Path(billing.__file__).parent


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "round":
                found.append(f"{path.name}:{node.lineno} round()")
            if isinstance(func, ast.Attribute) and func.attr in ("quantize", "multiply"):
                found.append(f"{path.name}:{node.lineno} .{func.attr}()")
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name.startswith("ROUND_"):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_only_rating_rounds():
    modules = [p for p in SOURCE.rglob("*.py") if p.name != "rating.py"
               and "migrations" not in p.parts]
    assert len(modules) > 20
    offences = [o for path in modules for o in _offences(path)]
    assert offences == []


def test_the_rule_is_half_even():
    from decimal import ROUND_HALF_EVEN

    assert rating.ROUNDING == ROUND_HALF_EVEN
    assert [rating.divide(n, 2) for n in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]
