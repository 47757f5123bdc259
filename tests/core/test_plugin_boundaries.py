"""Built-in plugins are written exactly as a third party would write them.

They may import ``backhaul.sdk`` and their own package, never the core's internals nor another
plugin's modules (plugins talk to each other through published hook specifications and SDK
helpers). This keeps the SDK honest: whatever a built-in plugin needs, a third party has too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _plugin_packages() -> list[Path]:
    return sorted(p for p in PLUGINS.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("package", _plugin_packages(), ids=lambda p: p.name)
def test_a_built_in_plugin_imports_only_the_sdk_and_itself(package: Path):
    own = f"backhaul.plugins.{package.name}"
    offences = []
    for path in sorted(package.rglob("*.py")):
        for line, module in _imports(path):
            if module.startswith("backhaul.core"):
                offences.append(f"{path.relative_to(PLUGINS)}:{line} imports {module}")
            elif module.startswith("backhaul.plugins.") and not (
                    module == own or module.startswith(own + ".")):
                offences.append(f"{path.relative_to(PLUGINS)}:{line} imports {module}")
    assert not offences, "use backhaul.sdk (or a published hook) instead:\n" + "\n".join(offences)


def test_the_check_sees_every_built_in_plugin():
    names = {p.name for p in _plugin_packages()}
    assert {"example", "billing", "notifications"} <= names
