"""The hook reference, generated from the specifications themselves (``backhaul hooks``).

``docs/hooks.md`` is this module's Markdown for the core's hooks; a test regenerates it and
fails when it differs, so the published reference always shows the exact signatures.
Regenerate it with ``backhaul hooks --format markdown --core > docs/hooks.md``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import pluggy

from . import hookspecs

GROUP_TITLES = {
    "contribution": "Contributions",
    "extension point": "Extension points",
    "event": "Events",
}


@dataclass(frozen=True)
class HookDoc:
    name: str
    argnames: tuple[str, ...]
    doc: str
    group: str  # contribution | extension point | event | published by '<plugin>'
    firstresult: bool

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.argnames)})"

    def as_dict(self) -> dict:
        return {"name": self.name, "signature": self.signature, "args": list(self.argnames),
                "group": self.group, "firstresult": self.firstresult, "doc": self.doc}


def core_group(name: str) -> str:
    for group, names in (("contribution", hookspecs.CONTRIBUTIONS),
                         ("extension point", hookspecs.EXTENSION_POINTS),
                         ("event", hookspecs.EVENTS)):
        if name in names:
            return group
    raise LookupError(f"hook '{name}' is in none of hookspecs.CONTRIBUTIONS, "
                      "EXTENSION_POINTS or EVENTS: add it to one")


def collect_specs(plugins=None) -> list[HookDoc]:
    """Every hook spec: the core's, plus those published by ``plugins``' enabled plugins."""
    if plugins is None:
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        publishers = {}
    else:
        pm = plugins.pm
        publishers = {n: r.meta.hookspecs for n, r in plugins.records.items()
                      if r.meta is not None and r.meta.hookspecs is not None}
    docs = []
    for name, caller in sorted(vars(pm.hook).items()):
        if name.startswith("_") or not caller.has_spec():
            continue
        spec = caller.spec
        if spec.namespace is hookspecs:
            group = core_group(name)
        else:
            owner = next((p for p, ns in publishers.items() if ns is spec.namespace), "?")
            group = f"published by '{owner}'"
        docs.append(HookDoc(name=name, argnames=tuple(spec.argnames),
                            doc=inspect.cleandoc(spec.function.__doc__ or ""), group=group,
                            firstresult=bool(spec.opts.get("firstresult"))))
    order = {"contribution": 0, "extension point": 1, "event": 2}
    return sorted(docs, key=lambda d: (order.get(d.group, 3), d.group, _position(d)))


def _position(doc: HookDoc) -> int:
    """Core hooks keep the order of hookspecs.py (related hooks stay together)."""
    names = [*hookspecs.CONTRIBUTIONS, *hookspecs.EXTENSION_POINTS, *hookspecs.EVENTS]
    return names.index(doc.name) if doc.name in names else 0


def markdown(specs: list[HookDoc]) -> str:
    lines = ["# Hook reference", "",
             "Generated from `core/hookspecs.py` by `backhaul hooks --format markdown --core`;",
             "do not edit by hand. Implement a hook with `@hookimpl` from `backhaul.sdk`,",
             "naming any subset of its arguments.", ""]
    group = None
    for spec in specs:
        if spec.group != group:
            group = spec.group
            lines += [f"## {GROUP_TITLES.get(group, group.capitalize())}", ""]
        lines += [f"### `{spec.signature}`", ""]
        if spec.firstresult:
            lines += ["*firstresult: the first non-None answer wins.*", ""]
        lines += [_fields_as_list(spec.doc), ""]
    return "\n".join(lines)


def _fields_as_list(doc: str) -> str:
    """``:param x: ...`` / ``:returns: ...`` -> Markdown list items (continuations kept)."""
    out = []
    for line in doc.splitlines():
        if line.startswith(":param "):
            name, _, text = line[len(":param "):].partition(":")
            line = f"- **{name.strip()}**:{text}"
        elif line.startswith(":returns:"):
            line = f"- **returns**:{line[len(':returns:'):]}"
        out.append(line)
    return "\n".join(out)
