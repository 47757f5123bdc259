"""The schema reference: every type, field and argument with its SDL description and the
permission it needs, generated from the live schema (so it always matches what is served).

``/graphql/reference`` renders it in the staff UI (``core.graphql.explore``);
:func:`undescribed` lists what still lacks a description (a test keeps the list from growing).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)

from .permissions import declared_permissions

KINDS = ((GraphQLObjectType, "type"), (GraphQLInterfaceType, "interface"),
         (GraphQLInputObjectType, "input"), (GraphQLEnumType, "enum"),
         (GraphQLUnionType, "union"), (GraphQLScalarType, "scalar"))


@dataclass
class FieldDoc:
    name: str
    type: str
    description: str
    arguments: list[tuple[str, str, str]] = field(default_factory=list)
    permissions: tuple[str, ...] = ()


@dataclass
class TypeDoc:
    name: str
    kind: str
    description: str
    fields: list[FieldDoc] = field(default_factory=list)


def _kind(type_) -> str:
    return next(label for cls, label in KINDS if isinstance(type_, cls))


def reference(schema: GraphQLSchema) -> list[TypeDoc]:
    """Every named type (Query and Mutation first, then by name), introspection left out."""
    permissions = declared_permissions(schema)
    roots = [t for t in (schema.query_type, schema.mutation_type) if t is not None]
    others = sorted((t for t in schema.type_map.values()
                     if not t.name.startswith("__") and t not in roots), key=lambda t: t.name)
    docs = []
    for type_ in [*roots, *others]:
        doc = TypeDoc(type_.name, _kind(type_), type_.description or "")
        if isinstance(type_, GraphQLEnumType):
            doc.fields = [FieldDoc(name, "", value.description or "")
                          for name, value in type_.values.items()]
        elif hasattr(type_, "fields"):
            for name, f in type_.fields.items():
                args = [(a, str(arg.type), arg.description or "")
                        for a, arg in getattr(f, "args", {}).items()]
                doc.fields.append(FieldDoc(name, str(f.type), f.description or "", args,
                                           permissions.get(f"{type_.name}.{name}", ())))
        docs.append(doc)
    return docs


def undescribed(schema: GraphQLSchema) -> list[str]:
    """``Type`` and ``Type.field`` names without a description (built-in scalars excepted)."""
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    out = []
    for doc in reference(schema):
        if doc.name in builtin:
            continue
        if not doc.description:
            out.append(doc.name)
        out += [f"{doc.name}.{f.name}" for f in doc.fields if not f.description]
    return out
