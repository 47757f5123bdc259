"""Map the top-level folders onto the ``backhaul`` import namespace.

``core/`` -> ``backhaul.core``, ``sdk/`` -> ``backhaul.sdk``, ``plugins/`` -> ``backhaul.plugins``.
Subpackages are found by walking the folders so a new plugin needs no edit here.
"""
from pathlib import Path

from setuptools import setup

ROOTS = {"core": "backhaul.core", "sdk": "backhaul.sdk", "plugins": "backhaul.plugins"}


def _packages():
    package_dir, packages = {}, []
    for folder, dotted in ROOTS.items():
        for init in sorted(Path(folder).rglob("__init__.py")):
            rel = init.parent.relative_to(folder)
            name = ".".join([dotted, *rel.parts]) if rel.parts else dotted
            packages.append(name)
            package_dir[name] = str(init.parent)
    return packages, package_dir


packages, package_dir = _packages()
setup(
    packages=packages,
    package_dir=package_dir,
    package_data={name: ["*.graphql", "templates/**/*", "static/**/*", "migrations/*.py",
                         "migrations/versions/*.py", "*.mako", "dictionary.*",
                         "freeradius_config/*"] for name in packages},
    include_package_data=True,
)
