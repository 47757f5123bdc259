"""Plugin discovery, loading and the typed facade over pluggy.

Discovery: entry points in the group ``backhaul.plugins`` (plus in-test plugins handed over
through ``EXTRA_PLUGINS``). Configuration decides what is enabled. Each plugin is loaded in its
own ``try``: an import error, a missing dependency, an incompatible SDK range or an exception
while registering or contributing marks that plugin *failed* with the reason, and the others
start. ``STRICT_PLUGINS`` turns any failure into a fatal :class:`PluginLoadError`.

Core code never writes ``pm.hook.x(...)``: it calls :meth:`Plugins.call` (every
implementation, each isolated), :meth:`Plugins.first` or the start-up :class:`Contributions`.
Implementations are called one at a time so that a failure is attributed to its plugin: those
marked ``tryfirst`` first, then the unmarked, then ``trylast``, each group in load order
(dependencies first). Wrappers (``wrapper=True``, ``hookwrapper=True``) cannot be honoured one
at a time: a plugin declaring one is refused at registration, with the hook named.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
from marshmallow import ValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from backhaul.sdk.plugin import API_VERSION, PluginContext, PluginMeta

from . import hookspecs
from .config import ConfigError

log = logging.getLogger("backhaul.plugins")
trace_log = logging.getLogger("backhaul.hooks")

ENTRY_POINT_GROUP = "backhaul.plugins"
#: plugins installed through this group are enabled only when configuration names them
#: (``all`` leaves them out): examples, demos, diagnostics
OPT_IN_GROUP = "backhaul.plugins.opt_in"

#: The core's own features are plugins too (essential, always first, not entry points): they
#: contribute through exactly the hooks a third party uses.
CORE_PLUGINS = {
    "core": "backhaul.core.system",
    "auth": "backhaul.core.auth.plugin",
    "audit": "backhaul.core.audit.plugin",
    "accounts": "backhaul.core.accounts.plugin",
}


class PluginLoadError(RuntimeError):
    """A plugin failed while ``STRICT_PLUGINS`` is on."""


@dataclass
class PluginRecord:
    """What the core knows about one installed plugin."""

    name: str
    version: str = "?"
    status: str = "disabled"  # enabled | disabled | failed
    reason: str = ""
    meta: PluginMeta | None = None
    obj: Any = None
    source: str = "entry point"  # entry point | core | in-test
    settings: dict = field(default_factory=dict)
    loader: Callable[[], Any] | None = None
    module: str | None = None  # the module the entry point names (found without importing)
    opt_in: bool = False  # installed through OPT_IN_GROUP: ``all`` does not enable it

    @property
    def description(self) -> str:
        return self.meta.description if self.meta else ""

    @property
    def essential(self) -> bool:
        return self.source == "core"

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(self.meta.depends_on) if self.meta else ()


@dataclass(frozen=True)
class HookCall:
    """One recorded hook call (see :meth:`Plugins.add_recorder`)."""

    hook: str
    plugin: str
    kwargs: dict
    result: Any
    error: BaseException | None


def discover() -> dict[str, PluginRecord]:
    """Installed plugins by name, not yet imported."""
    found: dict[str, PluginRecord] = {}
    for group in (OPT_IN_GROUP, ENTRY_POINT_GROUP):  # a plain entry point wins a name clash
        for ep in metadata.entry_points(group=group):
            version = ep.dist.version if ep.dist is not None else "?"
            found[ep.name] = PluginRecord(name=ep.name, version=version, loader=ep.load,
                                          module=ep.module, opt_in=group == OPT_IN_GROUP)
    return found


class Plugins:
    """One per app (``app.extensions["backhaul.plugins"]``): the typed facade over pluggy."""

    def __init__(self, config: dict):
        self.config = config
        self.strict = bool(config.get("STRICT_PLUGINS"))
        self.trace = bool(config.get("TRACE_HOOKS"))
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.order: list[str] = []
        self._recorders: list[list[HookCall]] = list(config.get("HOOK_RECORDERS") or [])
        #: called with a plugin's name when it fails after start-up collection
        self.fail_listeners: list[Callable[[str], None]] = []
        #: the app these plugins serve (set by ``create_app``), handed over in ``context``
        self.app: Any = None

    # ----------------------------------------------------------------------- loading
    def load(self) -> Plugins:
        """Discover, import, check, order and register the enabled plugins.

        Raises :class:`ConfigError` for configuration naming unknown plugins, disabling an
        essential one or holding invalid plugin settings (always fatal), and
        :class:`PluginLoadError` for a failing plugin in strict mode.
        """
        import importlib

        self.records = {
            name: PluginRecord(name=name, version=_core_version(), source="core",
                               loader=lambda path=path: importlib.import_module(path),
                               module=path)
            for name, path in CORE_PLUGINS.items()}
        for name, record in discover().items():
            if name in self.records:
                log.error("an installed plugin named '%s' clashes with the core's and is "
                          "ignored: uninstall it or rename it", name)
                continue
            self.records[name] = record
        for obj in self.config.get("EXTRA_PLUGINS") or []:
            meta = getattr(obj, "META", None)
            name = meta.name if isinstance(meta, PluginMeta) else repr(obj)
            if self.records.get(name) and self.records[name].source == "core":
                raise ConfigError("EXTRA_PLUGINS", f"in-test plugin '{name}' clashes with the "
                                  "core's plugin of that name", "Give it another name.")
            self.records[name] = PluginRecord(
                name=name, version=str((meta.extra or {}).get("version", "0")) if meta else "?",
                source="in-test", loader=lambda obj=obj: obj)
        wanted = self._wanted_names()
        self._check_settings_targets()
        for name in wanted:
            self._import(self.records[name])
        self._validate_settings(wanted)
        for name in self._dependency_order(wanted):
            self._register(self.records[name])
        self._check_unknown_hooks()
        return self

    def installed_names(self) -> list[str]:
        """Names of the installed plugins that configuration may enable or disable."""
        return sorted(n for n, r in self.records.items() if r.source != "core")

    def _wanted_names(self) -> list[str]:
        core = list(CORE_PLUGINS)
        extra = [r.name for r in self.records.values() if r.source == "in-test"]
        installed = [n for n in sorted(self.records) if n not in core and n not in extra]
        hint = f"Installed plugins: {', '.join(installed) or 'none'}."
        chosen = self.config.get("PLUGINS", "all")
        disabled = list(self.config.get("DISABLED_PLUGINS") or [])
        for name in disabled:
            if name in core:
                raise ConfigError("DISABLED_PLUGINS", f"plugin '{name}' is essential and "
                                  "cannot be disabled", f"Remove '{name}' from the list.")
            if name not in self.records:
                raise ConfigError("DISABLED_PLUGINS", f"unknown plugin '{name}'", hint)
        if chosen == "all":
            chosen = [n for n in installed if not self.records[n].opt_in]
        else:
            unknown = [n for n in chosen if n not in self.records]
            if unknown:
                raise ConfigError("PLUGINS", f"unknown plugin '{unknown[0]}'", hint)
        chosen = [n for n in [*chosen, *extra] if n not in core and n not in disabled]
        for name in installed:
            if self.records[name].opt_in and name not in chosen:
                self.records[name].reason = ("opt-in: enabled only when named in "
                                             "BACKHAUL_PLUGINS")
        return list(dict.fromkeys([*core, *chosen]))

    def _check_settings_targets(self) -> None:
        """Settings for a plugin that is not installed are a typo, not something to ignore."""
        for name in self.config.get("PLUGIN_SETTINGS") or {}:
            if name not in self.records:
                raise ConfigError(
                    f"plugins.{name}", f"settings are given for '{name}', which is not "
                    "installed", f"Installed plugins: {', '.join(self.installed_names())}. "
                    "Fix the name in [plugins.<name>] or BACKHAUL_PLUGIN_<NAME>__<KEY>.")

    def _import(self, record: PluginRecord) -> None:
        try:
            obj = record.loader()
        except Exception as exc:  # an import error must not stop the other plugins
            self._fail(record, f"import failed: {type(exc).__name__}: {exc}")
            return
        meta = getattr(obj, "META", None)
        if not isinstance(meta, PluginMeta):
            self._fail(record, "has no META = PluginMeta(...)")
            return
        if meta.name != record.name:
            self._fail(record, f"META.name is '{meta.name}' but it is installed as '{record.name}'")
            return
        record.obj, record.meta = obj, meta
        if meta.essential and record.source != "core":
            log.warning("plugin '%s' declares essential=True, which only the core's own "
                        "plugins can be; configuration may still disable it", record.name)
        try:
            spec = SpecifierSet(meta.requires_sdk)
        except InvalidSpecifier:
            self._fail(record, f"requires_sdk '{meta.requires_sdk}' is not a PEP 440 range")
            return
        if Version(API_VERSION) not in spec:
            self._fail(record, f"needs the plugin API {meta.requires_sdk}; this Backhaul offers "
                               f"{API_VERSION}: upgrade backhaul or install an older "
                               f"version of the plugin")

    def _validate_settings(self, wanted: list[str]) -> None:
        """Load each plugin's settings through its schema; the first problem is one ConfigError."""
        settings = self.config.get("PLUGIN_SETTINGS") or {}
        for name in wanted:
            record = self.records[name]
            raw = dict(settings.get(name, {}))
            schema = record.meta.settings_schema if record.meta else None
            if schema is None or record.status == "failed":
                record.settings = raw
                continue
            try:
                record.settings = schema().load(raw)
            except ValidationError as exc:
                raise _settings_error(name, schema, exc) from None

    def _dependency_order(self, wanted: list[str]) -> list[str]:
        """Topological order (dependencies first); marks plugins with missing deps failed."""
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> bool:
            record = self.records[name]
            if record.status == "failed" or record.meta is None:
                return False
            if name in ordered:
                return True
            if name in visiting:
                self._fail(record, "dependency cycle")
                return False
            visiting.add(name)
            for dep in record.meta.depends_on:
                if dep not in self.records:
                    self._fail(record, f"needs plugin '{dep}', which is not installed: "
                                       f"install it or disable '{name}'")
                    break
                if dep not in wanted:
                    self._fail(record, f"needs plugin '{dep}', which is not enabled: enable it "
                                       f"or disable '{name}'")
                    break
                if not visit(dep):
                    if record.status != "failed":
                        self._fail(record, f"needs plugin '{dep}', which failed")
                    break
            for dep in record.meta.optional_depends_on:  # loaded first when there
                if (dep in wanted and dep in self.records and dep not in visiting
                        and record.status != "failed"):
                    visit(dep)
            visiting.discard(name)
            if record.status == "failed":
                return False
            ordered.append(name)
            return True

        for name in wanted:
            visit(name)
        return ordered

    def _register(self, record: PluginRecord) -> None:
        failed = [d for d in record.meta.depends_on if not self.is_enabled(d)]
        if failed:  # a dependency failed while registering, just before this plugin
            self._fail(record, f"needs plugin '{failed[0]}', which failed")
            return
        try:
            if record.meta.hookspecs is not None:
                self.pm.add_hookspecs(record.meta.hookspecs)
            shadowed = _submodules_shadowing_hooks(record.obj, self.pm)
            if shadowed:
                self._fail(record, f"its submodule '{shadowed[0]}' has the name of a hook and "
                                   "hides the hook implementation once imported: rename the "
                                   "module")
                return
            self.pm.register(record.obj, name=record.name)
        except Exception as exc:
            self._fail(record, f"registration failed: {type(exc).__name__}: {exc}")
            return
        wrapped = self._wrapper_hooks(record)
        if wrapped:
            self._fail(record, f"registration failed: its implementation of hook "
                               f"'{wrapped[0]}' is a wrapper (wrapper=True or hookwrapper=True), "
                               "which Backhaul does not run: each implementation is called on "
                               "its own so that a failure stays with its plugin. Order it with "
                               "@hookimpl(tryfirst=True) or (trylast=True) instead")
            return
        record.status = "enabled"
        self.order.append(record.name)

    def _wrapper_hooks(self, record: PluginRecord) -> list[str]:
        return sorted(hc.name for hc in self.pm.get_hookcallers(record.obj) or []
                      for impl in hc.get_hookimpls()
                      if impl.plugin_name == record.name
                      and (impl.hookwrapper or getattr(impl, "wrapper", False)))

    def _check_unknown_hooks(self) -> None:
        """A hook implementation that matches no spec is a typo unless marked optional.

        Checked once every plugin is registered, so a plugin may implement a hook published
        by a plugin that loads after it. Mark implementations of hooks from plugins that may
        be absent with ``@hookimpl(optionalhook=True)``.
        """
        for name in list(self.order):
            record = self.records[name]
            if name not in self.order:
                continue  # failed meanwhile as a dependent
            unknown = sorted(hc.name for hc in self.pm.get_hookcallers(record.obj) or []
                             if not hc.has_spec() and any(
                                 impl.plugin_name == name and not impl.optionalhook
                                 for impl in hc.get_hookimpls()))
            if unknown:
                self.fail(name, f"implements unknown hook(s) {', '.join(unknown)}: check the "
                                "spelling, or mark hooks of optional plugins "
                                "@hookimpl(optionalhook=True)")

    def _fail(self, record: PluginRecord, reason: str) -> None:
        record.status, record.reason = "failed", reason
        if record.name in self.order:
            self.order.remove(record.name)
        if record.obj is not None and self.pm.is_registered(record.obj):
            self.pm.unregister(record.obj)
        log.error("plugin '%s' failed: %s", record.name, reason)
        if self.strict:
            raise PluginLoadError(f"plugin '{record.name}' failed: {reason}")

    def fail(self, name: str, reason: str) -> None:
        """Mark an enabled plugin failed (and its dependents): used by the start-up phases.

        Listeners (the contribution registry) forget what the plugin contributed.
        """
        self._fail(self.records[name], reason)
        for listener in self.fail_listeners:
            listener(name)
        for other in list(self.order):
            meta = self.records[other].meta
            if meta and name in meta.depends_on:
                self.fail(other, f"needs plugin '{name}', which failed")

    # ----------------------------------------------------------------------- queries
    def enabled(self) -> list[PluginRecord]:
        return [self.records[n] for n in self.order]

    def is_enabled(self, name: str) -> bool:
        return name in self.order

    def settings(self, name: str) -> dict:
        return self.records[name].settings

    def hooks_implemented(self, name: str) -> list[str]:
        record = self.records[name]
        if record.obj is None or not self.pm.is_registered(record.obj):
            return []
        return sorted(hc.name for hc in self.pm.get_hookcallers(record.obj) or [])

    def has_hook(self, hook: str) -> bool:
        """Whether ``hook`` has a specification (the core's or a plugin-published one)."""
        caller = getattr(self.pm.hook, hook, None)
        return caller is not None and caller.has_spec()

    def hook_argnames(self, hook: str) -> tuple[str, ...]:
        return tuple(getattr(self.pm.hook, hook).spec.argnames)

    def hookspec_names(self) -> list[str]:
        """Every hook with a specification, the core's and plugin-published ones."""
        return sorted(name for name, caller in vars(self.pm.hook).items()
                      if not name.startswith("_") and caller.has_spec())

    # ----------------------------------------------------------------------- calling
    def add_recorder(self) -> list[HookCall]:
        """Record every hook call from now on (for tests); returns the list that fills up."""
        calls: list[HookCall] = []
        self._recorders.append(calls)
        return calls

    def remove_recorder(self, calls: list[HookCall]) -> None:
        self._recorders.remove(calls)

    def _impls(self, hook: str, plugins: Iterable[str] | None = None):
        caller = getattr(self.pm.hook, hook, None)
        if caller is None:  # core hooks always exist: a plugin's hook whose publisher is off
            log.debug("no enabled plugin publishes or implements hook '%s'", hook)
            return
        by_plugin = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
        names = [n for n in (plugins if plugins is not None else self.order) if n in by_plugin]
        for name in sorted(names, key=lambda n: _rank(by_plugin[n])):  # stable: load order
            yield name, by_plugin[name]

    def call_order(self, hook: str) -> list[str]:
        """The enabled plugins implementing ``hook``, in the order they are called."""
        return [name for name, _ in self._impls(hook)]

    def context(self, name: str) -> PluginContext:
        """The ``context`` argument handed to plugin ``name``'s implementations."""
        return PluginContext(name=name, settings=self.records[name].settings, app=self.app)

    def _invoke(self, hook: str, name: str, impl, kwargs: dict):
        args = [self.context(name) if a == "context" and "context" not in kwargs
                else kwargs[a] for a in impl.argnames]
        started = time.perf_counter()
        error = None
        result = None
        try:
            result = impl.function(*args)
            return result
        except Exception as exc:
            error = exc
            raise
        finally:
            if self.trace:
                trace_log.info("hook %s(%s) -> plugin '%s' (%.1f ms)%s", hook,
                               ", ".join(impl.argnames), name,
                               (time.perf_counter() - started) * 1000,
                               f" raised {type(error).__name__}" if error else "")
            for calls in self._recorders:
                calls.append(HookCall(hook, name, dict(kwargs), result, error))

    def call(self, hook: str, *, plugins: Iterable[str] | None = None,
             on_error: Callable[[str, BaseException], None] | None = None,
             **kwargs) -> list[tuple[str, Any]]:
        """Call every enabled implementation of ``hook``; one failing does not stop the others.

        A failure is logged with the plugin's name (and passed to ``on_error``); the answers
        of the others come back as ``(plugin, result)`` pairs, ``None`` results included.
        """
        results = []
        for name, impl in self._impls(hook, plugins):
            try:
                results.append((name, self._invoke(hook, name, impl, kwargs)))
            except Exception as exc:
                log.exception("plugin '%s' raised in hook %s", name, hook)
                if on_error:
                    on_error(name, exc)
        return results

    def first(self, hook: str, **kwargs) -> Any:
        """The first non-``None`` answer, in load order (a failing plugin is skipped)."""
        for name, impl in self._impls(hook):
            try:
                result = self._invoke(hook, name, impl, kwargs)
            except Exception:
                log.exception("plugin '%s' raised in hook %s", name, hook)
                continue
            if result is not None:
                return result
        return None

    def collect(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Flatten list answers into ``(plugin, item)`` pairs, containing failures."""
        items = []
        for name, result in self.call(hook, **kwargs):
            for item in result or ():
                items.append((name, item))
        return items

    def describe(self) -> list[dict]:
        """Rows for ``backhaul plugins list`` and the plugins page."""
        rows = []
        for name in sorted(self.records):
            r = self.records[name]
            rows.append({"name": name, "version": r.version, "status": r.status,
                         "reason": r.reason, "description": r.description, "source": r.source,
                         "essential": r.essential, "depends_on": list(r.depends_on),
                         "opt_in": r.opt_in,
                         "hooks": self.hooks_implemented(name)})
        return rows


def _rank(impl) -> int:
    """tryfirst before unmarked before trylast (pluggy's meaning of the markers)."""
    return 0 if impl.tryfirst else 2 if impl.trylast else 1


def _settings_error(plugin: str, schema: Any, exc: ValidationError) -> ConfigError:
    """One :class:`ConfigError` naming the first bad setting, the plugin and how to fix it."""
    key, problems = next(iter(exc.normalized_messages().items()))
    problem = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
    env = f"BACKHAUL_PLUGIN_{plugin.upper()}__{str(key).upper()}"
    if key in schema().fields:
        fix = f"Set {key} in [plugins.{plugin}] of the TOML file, or {env}."
    else:
        known = ", ".join(sorted(schema().fields)) or "none"
        fix = f"Remove it ([plugins.{plugin}] or {env}); known settings: {known}."
    return ConfigError(str(key), problem.rstrip("."), fix, plugin=plugin)


def plugin_module_name(obj: Any) -> str | None:
    return obj.__name__ if isinstance(obj, ModuleType) else type(obj).__module__


def _submodules_shadowing_hooks(obj: Any, pm: pluggy.PluginManager) -> list[str]:
    """Names of a plugin package's submodules that are also hook names.

    ``from . import permissions`` inside a plugin package replaces the package's
    ``permissions`` hook function with the module: the next app built in the same process
    silently loses that hook. Refuse such a plugin instead.
    """
    if not isinstance(obj, ModuleType):
        return []
    return sorted(name for name, value in vars(obj).items()
                  if isinstance(value, ModuleType) and hasattr(pm.hook, name)
                  and getattr(value, "__name__", "").startswith(obj.__name__ + "."))


def _core_version() -> str:
    try:
        return metadata.version("backhaul")
    except metadata.PackageNotFoundError:
        return "0+unknown"
