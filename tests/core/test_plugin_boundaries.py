"""Built-in plugins are written exactly as a third party would write them.

They may import ``backhaul.sdk``, their own package and — from another plugin — only its
published ``api`` / ``hookspecs`` modules, and only when they declare that plugin in
``depends_on`` or ``optional_depends_on``. Never the core's internals. The rule is checked by
:mod:`backhaul.sdk.testing.boundaries` (which third-party authors use too); the tests below
prove it catches each kind of offence.
"""
from __future__ import annotations

import importlib
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from backhaul.sdk import PluginMeta
from backhaul.sdk.testing.boundaries import import_offences, plugin_import_offences

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
KNOWN = {"billing": "backhaul.plugins.billing", "notifications": "backhaul.plugins.notifications",
         "fake": "backhaul.plugins.fake"}


def _plugin_packages() -> list[Path]:
    return sorted(p for p in PLUGINS.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("package", _plugin_packages(), ids=lambda p: p.name)
def test_a_built_in_plugin_imports_only_the_sdk_itself_and_declared_apis(package: Path):
    plugin = importlib.import_module(f"backhaul.plugins.{package.name}")
    offences = plugin_import_offences(plugin)
    assert not offences, "\n".join(offences)


def test_the_check_sees_every_built_in_plugin():
    names = {p.name for p in _plugin_packages()}
    assert {"example", "billing", "notifications"} <= names


def test_the_sdk_does_not_import_a_plugin():
    """No SDK module exists for the sake of one plugin: the SDK never reaches into one."""
    sdk = PLUGINS.parent / "sdk"
    found = [f"{p.relative_to(sdk)}: {line}" for p in sdk.rglob("*.py")
             for line in p.read_text().splitlines()
             if line.lstrip().startswith(("from backhaul.plugins", "import backhaul.plugins"))]
    assert not found, found


# --------------------------------------------------------------------- the check can fail
def _fake(tmp_path: Path, source: str, name: str = "views.py") -> Path:
    package = tmp_path / "fake"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / name).write_text(textwrap.dedent(source))
    return package


def _check(package: Path, declared=()) -> list[str]:
    return import_offences(package, module="backhaul.plugins.fake", declared=declared,
                           plugins=KNOWN)


def test_importing_another_plugins_internals_is_an_offence_even_when_declared(tmp_path):
    package = _fake(tmp_path, "from backhaul.plugins.billing.ledger import post\n")
    [offence] = _check(package, declared=("billing",))
    assert "fake/views.py:1" in offence and "internals of plugin 'billing'" in offence


@pytest.mark.parametrize("source", [
    "import backhaul.plugins.billing.models\n",
    "from backhaul.plugins import billing\n",
    "from backhaul.plugins.billing import models\n",
    "def later():\n    from ..billing.invoices import finalize\n",
])
def test_every_spelling_of_an_internal_import_is_caught(tmp_path, source):
    assert len(_check(_fake(tmp_path, source), declared=("billing",))) == 1


@pytest.mark.parametrize("source", [
    "from backhaul.plugins.notifications.api import notify\n",
    "from backhaul.plugins.notifications import hookspecs\n",
    "import backhaul.plugins.notifications.api\n",
])
def test_importing_an_api_without_declaring_the_plugin_is_an_offence(tmp_path, source):
    [offence] = _check(_fake(tmp_path, source))
    assert "without declaring plugin 'notifications'" in offence


@pytest.mark.parametrize("field", ["depends_on", "optional_depends_on"])
def test_a_declared_plugins_api_and_hookspecs_are_allowed(tmp_path, field):
    package = _fake(tmp_path, "from backhaul.plugins.notifications.api import notify\n"
                              "from backhaul.plugins.notifications import hookspecs\n")
    plugin = SimpleNamespace(__name__="backhaul.plugins.fake",
                             __file__=str(package / "__init__.py"),
                             META=PluginMeta(name="fake", **{field: ("notifications",)}))
    assert plugin_import_offences(plugin, plugins=KNOWN) == []
    undeclared = SimpleNamespace(**{**vars(plugin), "META": PluginMeta(name="fake")})
    assert len(plugin_import_offences(undeclared, plugins=KNOWN)) == 2


def test_importing_the_core_is_an_offence(tmp_path):
    [offence] = _check(_fake(tmp_path, "from backhaul.core.db import db\n"))
    assert "core internals" in offence


def test_own_modules_and_the_sdk_are_fine(tmp_path):
    package = _fake(tmp_path, "from backhaul.sdk import db\nfrom . import models\n"
                              "from backhaul.plugins.fake.models import Thing\n")
    assert _check(package) == []
