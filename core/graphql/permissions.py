"""Per-field permissions: the ``@requires`` directive, the ``requires`` decorator, ``@public``.

Default deny: every field of ``Query`` and ``Mutation`` must say who may use it, either
``@requires(permission: "...")`` / a resolver decorated with :func:`requires`, or ``@public``
(any signed-in principal: ``viewer``-like fields). The schema builder refuses a contribution
with a root field that says neither. Anonymous requests are refused every field.

``@requires`` on an object type protects each of its fields; on a field it adds to that.
Mutations are refused to read-only API tokens whatever their permissions.
"""
from __future__ import annotations

from collections.abc import Callable

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    default_field_resolver,
    get_directive_values,
)

from .errors import AuthenticationRequired, PermissionDenied

DIRECTIVES_SDL = '''
"Only principals holding this permission may use the field (or every field of the type)."
directive @requires(permission: String!) on FIELD_DEFINITION | OBJECT

"Any signed-in principal may use this field (no particular permission)."
directive @public on FIELD_DEFINITION
'''

REQUIRES_ATTR = "__backhaul_requires__"


def requires(permission: str) -> Callable:
    """Decorate a resolver: the caller must hold ``permission``.

    Same effect as ``@requires(permission: "...")`` in the SDL; the schema builder reads the
    mark and checks it before the resolver runs. Stack it to require several permissions.
    """
    if not isinstance(permission, str) or not permission:
        raise ValueError("requires() needs a permission name such as 'billing.invoice.view'")

    def mark(resolver: Callable) -> Callable:
        held = getattr(resolver, REQUIRES_ATTR, ())
        setattr(resolver, REQUIRES_ATTR, (*held, permission))
        return resolver

    return mark


def is_read_only(principal) -> bool:
    """A read-only principal (an API token with the ``read`` scope) never runs mutations."""
    explicit = getattr(principal, "read_only", None)
    if explicit is not None:
        return bool(explicit)
    token = getattr(principal, "token", None)
    return token is not None and getattr(token, "scope", None) == "read"


def check(principal, permissions: tuple[str, ...], mutation: bool = False) -> None:
    """Raise unless ``principal`` may use a field needing ``permissions``."""
    if principal is None or not principal.is_authenticated:
        raise AuthenticationRequired("Sign in, or send an API token as "
                                     "'Authorization: Bearer ...'.")
    if mutation and is_read_only(principal):
        raise PermissionDenied("This API token is read-only: mutations need a token with "
                               "a wider scope.", code="READ_ONLY_TOKEN")
    for permission in permissions:
        if not principal.has_permission(permission):
            raise PermissionDenied(f"You need the permission '{permission}' for this field.",
                                   permission=permission)


def _directive(schema: GraphQLSchema, name: str, node) -> dict | None:
    if node is None:
        return None
    return get_directive_values(schema.get_directive(name), node)


def type_permissions(schema: GraphQLSchema, type_: GraphQLObjectType) -> tuple[str, ...]:
    nodes = [type_.ast_node, *(type_.extension_ast_nodes or ())]
    found = [_directive(schema, "requires", n) for n in nodes]
    return tuple(d["permission"] for d in found if d)


def field_rule(schema: GraphQLSchema, field) -> tuple[tuple[str, ...], bool]:
    """``(permissions, public)`` declared on one field (directive and decorator)."""
    perms = []
    directive = _directive(schema, "requires", field.ast_node)
    if directive:
        perms.append(directive["permission"])
    perms.extend(getattr(field.resolve, REQUIRES_ATTR, ()))
    return tuple(perms), _directive(schema, "public", field.ast_node) is not None


def _guard(resolve, permissions: tuple[str, ...], mutation: bool):
    resolve = resolve or default_field_resolver

    def guarded(obj, info, **kwargs):
        check(info.context.principal, permissions, mutation)
        return resolve(obj, info, **kwargs)

    guarded.__wrapped__ = resolve
    guarded.__backhaul_guard__ = True  # the fast path checks once per level instead
    setattr(guarded, REQUIRES_ATTR, permissions)
    return guarded


def apply(schema: GraphQLSchema) -> None:
    """Wrap resolvers so each field checks its permissions before it runs.

    Root fields always check (sign-in, read-only tokens on mutations); other fields only when
    they or their type declare a permission (no cost otherwise).
    """
    roots = {schema.query_type: False, schema.mutation_type: True}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        on_type = type_permissions(schema, type_)
        for field in type_.fields.values():
            perms, _public = field_rule(schema, field)
            needed = tuple(dict.fromkeys(on_type + perms))
            if needed or type_ in roots:
                field.resolve = _guard(field.resolve, needed, roots.get(type_, False))


def unguarded_root_fields(schema: GraphQLSchema, names: dict[str, set[str]]) -> list[str]:
    """``Type.field`` names among ``names`` ({"Query": {...}}) that declare no permission."""
    missing = []
    for type_name, fields in names.items():
        type_ = schema.get_type(type_name)
        if type_ is None:
            continue
        on_type = type_permissions(schema, type_)
        for field_name in sorted(fields):
            field = type_.fields.get(field_name)
            if field is None:
                continue
            perms, public = field_rule(schema, field)
            if not (perms or public or on_type):
                missing.append(f"{type_name}.{field_name}")
    return missing


def declared_permissions(schema: GraphQLSchema) -> dict[str, tuple[str, ...]]:
    """``{"Type.field": permissions}`` for every object field (for docs and the matrix test)."""
    out = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        on_type = type_permissions(schema, type_)
        for name, field in type_.fields.items():
            perms, _ = field_rule(schema, field)
            out[f"{type_.name}.{name}"] = tuple(dict.fromkeys(on_type + perms))
    return out
