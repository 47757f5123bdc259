"""Assembling the schema: the core's SDL plus every enabled plugin's contribution.

A contribution that cannot be built (SDL syntax, a clash, a bindable for a missing type, a
root field without a permission, an undeclared permission) fails *its* plugin with a message
saying what to fix; the schema is rebuilt without it and the others are served. In strict
mode the failure is raised instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from ariadne import (
    QueryType,
    repair_schema_default_enum_values,
    validate_schema_default_enum_values,
)
from ariadne.executable_schema import normalize_bindables
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    assert_valid_schema,
    build_ast_schema,
    concat_ast,
    parse,
)
from graphql.validation.validate import validate_sdl

from . import permissions
from .scalars import BINDABLES as SCALAR_BINDABLES
from .scalars import SCALARS_SDL

log = logging.getLogger("backhaul.graphql")

CORE_SDL = permissions.DIRECTIVES_SDL + SCALARS_SDL + '''
"Where a page of a connection starts and ends (cursor pagination, Relay style)."
type PageInfo {
  "True when more rows follow this page: ask again with after: endCursor."
  hasNextPage: Boolean!
  "True when this page was asked for with an after cursor (rows come before it)."
  hasPreviousPage: Boolean!
  "Opaque cursor of the first row of the page (null: the page is empty)."
  startCursor: String
  "Opaque cursor of the last row: pass it as after for the next page (null: empty page)."
  endCursor: String
}

"A paginated list: edges (cursor + node), pageInfo and the total number of matches."
interface Connection {
  "Where this page starts and ends, and whether more rows follow."
  pageInfo: PageInfo!
  "How many rows match the filter over all pages (counted only when asked for)."
  totalCount: Int!
}

"One row of a connection page with its cursor."
interface Edge {
  "Opaque position of this row; valid as after only with the same sort."
  cursor: String!
}

"A validation problem with one input field of a mutation (field null: the whole input)."
type FieldError {
  "The input field in camelCase, as named in the schema (null: the input as a whole)."
  field: String
  "Human-readable reasons, in English, to show next to the field."
  messages: [String!]!
}

"What every mutation returns: ok, or the field errors that stopped it."
interface MutationPayload {
  "True when the change was made (and committed); false when errors says why not."
  ok: Boolean!
  "Why the change was refused, field by field (empty when ok)."
  errors: [FieldError!]!
}

"The signed-in principal."
type Viewer {
  "The staff user's sign-in e-mail (the token owner's for a token)."
  email: String
  "The staff user's display name (the token owner's for a token)."
  name: String
  "user or token"
  kind: String!
  "True for a read-scope token: every mutation is refused."
  readOnly: Boolean!
  "The permission names held now (a token: narrowed to its scope), sorted."
  permissions: [String!]!
}

"An installed plugin and its state."
type PluginInfo {
  "The plugin's entry-point name, e.g. billing (the key of its [plugins.NAME] settings)."
  name: String!
  "The installed distribution's version."
  version: String!
  "enabled, disabled or failed"
  status: String!
  "Why it failed (empty otherwise)."
  reason: String!
  "One-line summary the plugin gives of itself."
  description: String!
}

"One installed plugin with its cursor."
type PluginInfoEdge implements Edge {
  "Opaque position; valid as after only with the same sort."
  cursor: String!
  "The plugin."
  node: PluginInfo!
}
"A page of installed plugins."
type PluginInfoConnection implements Connection {
  "The plugins of this page with their cursors."
  edges: [PluginInfoEdge!]!
  "The plugins of this page."
  nodes: [PluginInfo!]!
  "Where this page starts and ends."
  pageInfo: PageInfo!
  "How many installed plugins match the filter."
  totalCount: Int!
}

"Which installed plugins to list; every given field must match."
input PluginInfoFilter {
  "enabled, disabled or failed (anything else is refused)."
  status: String
  "Contained in the name or the description, any case."
  search: String
}

"""
Everything that can be read. Each field names the permission it needs (the schema reference
shows it); list fields are connections (first/after, filter, sort, totalCount) of at most
GRAPHQL_MAX_PAGE_SIZE rows a page. Plugins add their fields, prefixed with their name.
"""
type Query {
  "Who is asking."
  viewer: Viewer! @public
  "Installed plugins, with why a plugin failed."
  plugins(filter: PluginInfoFilter, first: Int, after: String,
          "name, -name, status, -status"
          sort: String): PluginInfoConnection! @requires(permission: "core.plugins.view")
}
'''

MUTATION_SDL = '''"""
Everything that can be changed: the same actions as the staff pages, behind the same
permissions. Each answers a payload with ok and field-level errors; nothing is half-written
when ok is false. Read-only API tokens cannot run mutations.
"""
type Mutation
'''


@lru_cache(maxsize=512)
def _parse_sdl(sdl: str) -> DocumentNode:
    """Parsed SDL, cached: every app of a process (and every test) contributes the same text."""
    return parse(sdl)

core_query = QueryType()


@core_query.field("viewer")
def resolve_viewer(_obj, info) -> dict:
    principal = info.context.principal
    user = principal.user
    return {"email": getattr(user, "email", None),
            "name": getattr(user, "name", None) or getattr(user, "full_name", None),
            "kind": "token" if principal.token is not None else "user",
            "readOnly": permissions.is_read_only(principal),
            "permissions": sorted(principal.permissions)}


PLUGIN_SORTS = {"name": lambda p: p["name"], "-name": lambda p: p["name"],
                "status": lambda p: (p["status"], p["name"]),
                "-status": lambda p: (p["status"], p["name"])}
PLUGIN_STATUSES = ("enabled", "disabled", "failed")


@core_query.field("plugins")
def resolve_plugins(_obj, info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    """The plugin registry is in memory (a few dozen entries): paged with paginate_list."""
    from flask import current_app

    from .errors import GraphQLUserError
    from .pagination import paginate_list

    rows = current_app.extensions["backhaul.plugins"].describe()
    f = filter or {}
    if f.get("status") is not None:
        if f["status"] not in PLUGIN_STATUSES:
            raise GraphQLUserError(f"Unknown plugin status '{f['status']}'; use one of "
                                   f"{', '.join(PLUGIN_STATUSES)}.")
        rows = [r for r in rows if r["status"] == f["status"]]
    text = (f.get("search") or "").strip().lower()
    if text:
        rows = [r for r in rows if text in r["name"].lower()
                or text in (r["description"] or "").lower()]
    return paginate_list(rows, first, after, sort, PLUGIN_SORTS, "name")


class SchemaContributionError(Exception):
    """A plugin's contribution cannot be used; the message says what to fix."""


@dataclass
class Part:
    """One contribution: who, SDL, parsed SDL, bindables."""

    plugin: str
    sdl: str
    bindables: tuple = ()
    document: DocumentNode | None = None
    root_fields: dict[str, set[str]] = field(default_factory=dict)


def _parse(part: Part) -> None:
    try:
        part.document = _parse_sdl(part.sdl)
    except GraphQLError as exc:
        raise SchemaContributionError(f"its GraphQL SDL does not parse: {exc.message}") from None
    for node in part.document.definitions:
        if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode) and \
                node.name.value in ("Query", "Mutation"):
            part.root_fields.setdefault(node.name.value, set()).update(
                f.name.value for f in node.fields or ())


def _extends_mutation(parts: list[Part]) -> bool:
    return any("Mutation" in p.root_fields for p in parts)


@lru_cache(maxsize=64)
def _checked_sdl(sdls: tuple[str, ...]) -> DocumentNode:
    """The SDL documents joined and validated (cached: validation is half of the build)."""
    document = concat_ast([_parse_sdl(sdl) for sdl in sdls])
    errors = validate_sdl(document)
    if errors:
        raise TypeError("\n\n".join(error.message for error in errors))
    return document


def _make(parts: list[Part]) -> GraphQLSchema:
    """Ariadne's ``make_executable_schema`` over the already parsed documents."""
    sdls = [p.sdl for p in parts]
    if _extends_mutation(parts):
        sdls.insert(1, MUTATION_SDL)
    schema = build_ast_schema(_checked_sdl(tuple(sdls)), assume_valid_sdl=True)
    for bindable in normalize_bindables(*[b for p in parts for b in p.bindables]):
        bindable.bind_to_schema(schema)
    validate_schema_default_enum_values(schema)
    assert_valid_schema(schema)
    repair_schema_default_enum_values(schema)
    return schema


def _check(schema: GraphQLSchema, part: Part, known: frozenset[str] | None) -> None:
    missing = permissions.unguarded_root_fields(schema, part.root_fields)
    if missing:
        raise SchemaContributionError(
            f"root field(s) {', '.join(missing)} declare no permission: add "
            f"@requires(permission: \"{part.plugin}.<object>.<verb>\") (or decorate the "
            "resolver with backhaul.sdk.graphql.requires), or @public for a field every "
            "signed-in user may read")
    if known is None:
        return
    for node in part.document.definitions:
        if not isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        type_ = schema.get_type(node.name.value)
        declared = [(node.name.value, p) for p in permissions.type_permissions(schema, type_)]
        for field_node in node.fields or ():
            perms, _ = permissions.field_rule(schema, type_.fields[field_node.name.value])
            declared += [(f"{node.name.value}.{field_node.name.value}", p) for p in perms]
        for where, permission in declared:
            if permission not in known:
                raise SchemaContributionError(
                    f"{where} requires undeclared permission '{permission}': declare it with "
                    "the permissions hook (or check the spelling)")


def build(contributions: list[tuple[str, object]], fail=None,
          known_permissions: frozenset[str] | None = None,
          is_enabled=None) -> GraphQLSchema:
    """Build the executable schema; ``fail(plugin, reason)`` is called for each bad part.

    ``fail`` may raise (strict mode); without it, a bad contribution raises
    :class:`SchemaContributionError`. ``is_enabled(plugin)`` drops the parts of plugins that
    failed meanwhile (a dependent of a refused plugin fails with it).
    """
    def reject(part: Part, reason: str) -> None:
        log.error("plugin '%s': GraphQL contribution refused: %s", part.plugin, reason)
        if fail is None:
            raise SchemaContributionError(f"plugin '{part.plugin}': {reason}")
        fail(part.plugin, f"GraphQL contribution refused: {reason}")

    core = Part("core", CORE_SDL, (*SCALAR_BINDABLES, core_query))
    _parse(core)
    parts: list[Part] = []
    for plugin, contribution in contributions:
        part = Part(plugin, contribution.sdl, tuple(contribution.bindables))
        try:
            _parse(part)
        except SchemaContributionError as exc:
            reject(part, str(exc))
            continue
        parts.append(part)
    while True:  # usually once; again when a refused part leaves another without its types
        try:
            schema = _make([core, *parts])  # the usual case: everything fits
        except Exception:
            schema, parts = _build_one_by_one(core, parts, reject)
        good = []
        for part in parts:
            try:
                _check(schema, part, known_permissions)
                good.append(part)
            except SchemaContributionError as exc:
                reject(part, str(exc))
        if is_enabled is not None:
            good = [p for p in good if is_enabled(p.plugin)]
        if len(good) == len(parts):
            break
        parts = good
    permissions.apply(schema)
    return schema


def _build_one_by_one(core: Part, parts: list[Part], reject):
    """Find the contributions that break the build by adding them one at a time."""
    accepted: list[Part] = []
    schema = _make([core])
    for part in parts:
        try:
            schema = _make([core, *accepted, part])
        except Exception as exc:
            reject(part, f"{type(exc).__name__}: {exc}")
            continue
        accepted.append(part)
    return schema, accepted
