"""The import rule every plugin follows, as a check a plugin author can run in a test.

A plugin imports ``backhaul.sdk``, its own package, libraries, and — from another plugin —
only that plugin's published ``api`` and ``hookspecs`` modules, and only when it names the
plugin in ``META.depends_on`` or ``META.optional_depends_on``. Everything under
``backhaul.core`` and every other module of another plugin is internal: it changes without
notice, and a plugin that leans on it breaks on the next release::

    from backhaul.sdk.testing.boundaries import plugin_import_offences
    import acme_greetings

    def test_imports_follow_the_rule():
        assert plugin_import_offences(acme_greetings) == []

The check reads the source (``ast``), so it sees imports inside functions too.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

#: the modules of a plugin that other plugins may import (when they declare it)
PUBLIC_MODULES = ("api", "hookspecs")


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_names(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, dotted name)`` for every import in the file, relative ones made absolute.

    ``from x import y`` yields ``x.y`` (``y`` may be a module or an attribute: the rule is
    decided on the prefix, so both work).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            found += [(node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base)
                      for alias in node.names]
    return found


def _offence(name: str, own: str, declared: set[str], plugins: Mapping[str, str]) -> str | None:
    if name == "backhaul.core" or name.startswith("backhaul.core."):
        return f"imports {name}: core internals; use backhaul.sdk"
    for plugin, root in plugins.items():
        if root == own or not (name == root or name.startswith(root + ".")):
            continue
        rest = name[len(root) + 1:].split(".")[0] if name != root else ""
        if rest not in PUBLIC_MODULES:
            return (f"imports {name}: internals of plugin '{plugin}'; import only its "
                    f"{' or '.join(PUBLIC_MODULES)} module")
        if plugin not in declared:
            return (f"imports {name} without declaring plugin '{plugin}': add it to "
                    "META.depends_on (or optional_depends_on)")
    return None


def import_offences(package_dir: Path, *, module: str, declared: Iterable[str],
                    plugins: Mapping[str, str]) -> list[str]:
    """Every import in ``package_dir`` (the plugin ``module``) that breaks the rule.

    :param declared: the plugin's ``depends_on`` plus ``optional_depends_on``.
    :param plugins: every known plugin's name and top-level module
        (``{"billing": "backhaul.plugins.billing"}``).
    """
    declared, offences = set(declared), []
    for path in sorted(Path(package_dir).rglob("*.py")):
        rel = path.relative_to(package_dir).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        file_module = ".".join([module, *parts])
        for line, name in imported_names(path, file_module):
            problem = _offence(name, module, declared, plugins)
            if problem:
                offences.append(f"{path.relative_to(package_dir.parent)}:{line} {problem}")
    return offences


def installed_plugin_modules() -> dict[str, str]:
    """Installed plugins (entry points of ``backhaul.plugins``) by name: their module."""
    from importlib import metadata

    return {ep.name: ep.module for group in ("backhaul.plugins.opt_in", "backhaul.plugins")
            for ep in metadata.entry_points(group=group)}


def plugin_import_offences(plugin: ModuleType,
                           plugins: Mapping[str, str] | None = None) -> list[str]:
    """Offences of an imported plugin package, its dependencies read from its ``META``."""
    meta = plugin.META
    known = dict(installed_plugin_modules() if plugins is None else plugins)
    known.setdefault(meta.name, plugin.__name__)
    package_dir = Path(plugin.__file__).parent
    return import_offences(package_dir, module=plugin.__name__,
                           declared=(*meta.depends_on, *meta.optional_depends_on),
                           plugins=known)


__all__ = ["PUBLIC_MODULES", "import_offences", "imported_names", "installed_plugin_modules",
           "plugin_import_offences"]
