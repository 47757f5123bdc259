"""A fast executor for the common query: concrete object types, no errors.

graphql-core's executor costs about 10 µs per resolved field (a path, an info object, a
completion step and awaitable checks for every value); a page of 50 accounts with their
contacts and address is some 1,400 fields. This executor runs the same resolvers *level by
level*: a field's resolver is called for every parent object at once, the field's
permissions are checked once for the level (not once per value), leaves are serialised with
their type's ``serialize``, and every awaitable of a level is gathered together (so the
batched loaders see all sibling keys at once).

It only answers when the answer is certain to be the one graphql-core would give:

* :func:`compile_plan` refuses (returns ``None``) documents it does not handle — mutations,
  introspection, abstract (interface/union) field types, nested lists, directives on
  selections, fragment variables — and those run on graphql-core as before;
* :func:`execute_plan` raises :class:`Fallback` at the first thing that would make a field
  error (a resolver raising, a permission refused, ``null`` in a non-null field, a value a
  scalar cannot serialise); the caller then runs graphql-core, which reports the error with
  its path exactly as before. Queries never write, so running resolvers twice is harmless.

``tests/core/test_graphql_fastpath.py`` compares both executors on the same documents.
"""
from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from dataclasses import dataclass, field
from inspect import isawaitable, iscoroutine
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    default_field_resolver,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_awaitable

from .permissions import REQUIRES_ATTR, check


class Fallback(Exception):
    """The fast path cannot give graphql-core's answer: run graphql-core instead."""


@dataclass
class FieldPlan:
    """One response key of a selection on one object type."""

    key: str
    name: str
    nodes: list[FieldNode]
    definition: Any  # GraphQLField
    parent_type: GraphQLObjectType
    resolve: Any  # the resolver without its permission guard (None: default resolver)
    permissions: tuple[str, ...] | None  # None: no guard on this field
    non_null: bool
    is_list: bool
    item_non_null: bool
    named_type: Any
    children: list[FieldPlan] = field(default_factory=list)
    has_args: bool = False
    #: the attribute or key read by a default (or Ariadne alias) resolver; None: call resolve
    attribute: str | None = None


@dataclass
class Plan:
    operation: OperationDefinitionNode
    fields: list[FieldPlan]
    fragments: dict


def _unwrap(type_) -> tuple[bool, bool, bool, Any] | None:
    """``(non_null, is_list, item_non_null, named type)``; ``None`` for a list of lists."""
    non_null = isinstance(type_, GraphQLNonNull)
    if non_null:
        type_ = type_.of_type
    is_list = isinstance(type_, GraphQLList)
    item_non_null = False
    if is_list:
        type_ = type_.of_type
        item_non_null = isinstance(type_, GraphQLNonNull)
        if item_non_null:
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            return None
    return non_null, is_list, item_non_null, type_


class _Unsupported(Exception):
    pass


def _collect(schema, fragments, selection_set, type_: GraphQLObjectType,
             out: dict[str, list[FieldNode]], seen: frozenset = frozenset()) -> None:
    for selection in selection_set.selections:
        if selection.directives:
            raise _Unsupported
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            out.setdefault(key, []).append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen or fragment.variable_definitions:
                raise _Unsupported
            condition, sub, seen = fragment.type_condition, fragment.selection_set, seen | {name}
        elif isinstance(selection, InlineFragmentNode):
            condition, sub = selection.type_condition, selection.selection_set
        else:
            raise _Unsupported
        if condition is not None:
            conditional = schema.get_type(condition.name.value)
            if conditional is None:
                raise _Unsupported
            if conditional is not type_:
                if is_object_type(conditional) or not schema.is_sub_type(conditional, type_):
                    continue  # a fragment on another object type never applies here
        _collect(schema, fragments, sub, type_, out, seen)


def _fields(schema, fragments, selection_sets, type_: GraphQLObjectType,
            depth: int) -> list[FieldPlan]:
    if depth > 64:
        raise _Unsupported
    grouped: dict[str, list[FieldNode]] = {}
    for selection_set in selection_sets:
        _collect(schema, fragments, selection_set, type_, grouped)
    plans = []
    for key, nodes in grouped.items():
        name = nodes[0].name.value
        if name == "__typename":
            plans.append(FieldPlan(key, name, nodes, None, type_, None, None, True, False,
                                   False, None))
            continue
        if name.startswith("__"):
            raise _Unsupported  # introspection: graphql-core answers it
        definition = type_.fields.get(name)
        if definition is None:
            raise _Unsupported
        shape = _unwrap(definition.type)
        if shape is None:
            raise _Unsupported
        non_null, is_list, item_non_null, named = shape
        resolve, permissions = definition.resolve, None
        if resolve is not None and hasattr(resolve, "__wrapped__") and \
                hasattr(resolve, REQUIRES_ATTR) and getattr(resolve, "__backhaul_guard__", False):
            permissions, resolve = getattr(resolve, REQUIRES_ATTR), resolve.__wrapped__
        plan = FieldPlan(key, name, nodes, definition, type_, resolve, permissions, non_null,
                         is_list, item_non_null, named,
                         has_args=bool(definition.args), attribute=_attribute(resolve, name))
        if is_leaf_type(named):
            if any(n.selection_set for n in nodes):
                raise _Unsupported
        elif is_object_type(named):
            plan.children = _fields(schema, fragments,
                                    [n.selection_set for n in nodes if n.selection_set],
                                    named, depth + 1)
        else:
            raise _Unsupported  # interfaces and unions need resolve_type: graphql-core
        plans.append(plan)
    return plans


def _attribute(resolve, name: str) -> str | None:
    """The attribute a default resolver reads (graphql-core's, or Ariadne's ``resolve_to``
    with a plain name), so that the executor can read it without a call per value."""
    if resolve is None or resolve is default_field_resolver:
        return name
    if getattr(resolve, "_ariadne_alias_resolver", False) and resolve.__closure__:
        names = dict(zip(resolve.__code__.co_freevars,
                         (c.cell_contents for c in resolve.__closure__), strict=True))
        attribute = names.get("attr_name")
        if isinstance(attribute, str) and "." not in attribute:
            return attribute
    return None


def compile_plan(schema: GraphQLSchema, document, operation_name: str | None) -> Plan | None:
    """The plan for a query operation of ``document``, or ``None`` if graphql-core must run it.

    The plan does not depend on variables (arguments are computed at execution), so it can be
    cached with the validated document.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        operation = next((o for o in operations if o.name and o.name.value == operation_name),
                         None)
    if operation is None or operation.operation is not OperationType.QUERY or \
            operation.directives or schema.query_type is None:
        return None
    fragments = {d.name.value: d for d in document.definitions
                 if d.kind == "fragment_definition"}
    try:
        fields = _fields(schema, fragments, [operation.selection_set], schema.query_type, 0)
    except (_Unsupported, RecursionError):
        return None
    return Plan(operation, fields, fragments)


# ------------------------------------------------------------------------------ execution
#: Values that are never awaitable (``inspect.isawaitable`` costs a microsecond each).
_PLAIN = frozenset({str, int, bool, float, type(None), list, dict, tuple})
#: Leaf types whose ``serialize`` returns a value of this exact Python type unchanged.
_IDENTITY = {GraphQLString: str, GraphQLBoolean: bool}

#: Whether values of a type are read as mappings (``isinstance(x, Mapping)`` is an ABC check:
#: slow enough to matter once per value).
_MAPPING: dict[type, bool] = {}


def _read(sources: list, attribute: str) -> list:
    """``attribute`` of every source (a key of a mapping, else an attribute; ``None`` when
    missing), as graphql-core's default resolver reads it."""
    kinds = set(map(type, sources))
    if len(kinds) == 1:
        kind = kinds.pop()
        mapping = _MAPPING.get(kind)
        if mapping is None:
            mapping = _MAPPING[kind] = issubclass(kind, Mapping)
        if mapping:
            return [s.get(attribute) for s in sources]
        try:
            return list(map(attrgetter(attribute), sources))
        except AttributeError:
            pass  # some source lacks it: read one by one, None where missing
    return [s.get(attribute) if isinstance(s, Mapping) else getattr(s, attribute, None)
            for s in sources]


def _default_resolve(source, info, **args):
    name = info.field_name
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    if callable(value):
        return value(info, **args)
    return value


class _Run:
    def __init__(self, schema, plan: Plan, context, variables):
        self.schema, self.plan, self.context, self.variables = schema, plan, context, variables
        self.principal = getattr(context, "principal", None)

    def info(self, plan: FieldPlan, path: Path) -> GraphQLResolveInfo:
        return GraphQLResolveInfo(
            plan.name, plan.nodes, plan.definition.type, plan.parent_type, path, self.schema,
            self.plan.fragments, None, self.plan.operation, self.variables, self.context,
            is_awaitable, None, None)

    async def level(self, plans: list[FieldPlan], sources: list, outputs: list[dict],
                    path: Path | None) -> None:
        """Resolve ``plans`` for every source, writing each into the matching output dict."""
        pending: list[tuple[list, int, Any]] = []
        try:
            resolved = await self._resolve_level(plans, sources, path, pending)
        except Fallback:
            for _, _, awaitable in pending:  # never awaited: close them quietly
                close = getattr(awaitable, "close", None)
                if close is not None:
                    close()
            raise
        nested = []
        for plan, values in zip(plans, resolved, strict=True):
            child = self.complete(plan, values, outputs, path)
            if child is not None:
                nested.append(child)
        if nested:
            await asyncio.gather(*nested)

    async def _resolve_level(self, plans, sources, path, pending) -> list[list]:
        resolved: list[list] = []
        for plan in plans:
            if plan.name == "__typename":
                resolved.append([plan.parent_type.name] * len(sources))
                continue
            if plan.permissions is not None and sources:
                try:
                    check(self.principal, plan.permissions)
                except Exception:
                    raise Fallback from None
            field_path = Path(path, plan.key, plan.parent_type.name)
            info = self.info(plan, field_path)
            try:
                args = get_argument_values(plan.definition, plan.nodes[0], self.variables) \
                    if plan.has_args else {}
                values = self.resolve(plan, sources, info, args, pending)
            except Exception:
                raise Fallback from None
            resolved.append(values)
        if pending:
            await _settle(pending)
        return resolved

    @staticmethod
    def resolve(plan: FieldPlan, sources: list, info, args: dict, pending: list) -> list:
        attribute = plan.attribute
        if attribute is not None:  # a default resolver: read it here, call only callables
            values = _read(sources, attribute)
            for i, value in enumerate(values):
                if callable(value):
                    values[i] = value = value(info, **args)
                    if isawaitable(value):
                        pending.append((values, i, value))
            return values
        resolve, values = plan.resolve, []
        for source in sources:
            value = resolve(source, info, **args)
            if type(value) not in _PLAIN and isawaitable(value):
                pending.append((values, len(values), value))
            values.append(value)
        return values

    def complete(self, plan: FieldPlan, values: list, outputs: list[dict], path):
        """Write leaves; return the coroutine resolving the next level (objects)."""
        key, children = plan.key, plan.children
        if plan.named_type is None:  # __typename
            for out, value in zip(outputs, values, strict=True):
                out[key] = value
            return None
        leaf = not children and is_leaf_type(plan.named_type)
        serialize = plan.named_type.serialize if leaf else None
        same = _IDENTITY.get(plan.named_type) if leaf else None
        child_sources, child_outputs = [], []
        for out, value in zip(outputs, values, strict=True):
            if value is None:
                if plan.non_null:
                    raise Fallback
                out[key] = None
                continue
            if plan.is_list:
                if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
                    raise Fallback
                items = []
                for item in value:
                    if item is None:
                        if plan.item_non_null:
                            raise Fallback
                        items.append(None)
                    elif leaf:
                        items.append(item if type(item) is same
                                     else self.serialize(serialize, item))
                    else:
                        child = {}
                        child_sources.append(item)
                        child_outputs.append(child)
                        items.append(child)
                out[key] = items
            elif leaf:
                out[key] = value if type(value) is same else self.serialize(serialize, value)
            else:
                child = {}
                child_sources.append(value)
                child_outputs.append(child)
                out[key] = child
        if leaf or not child_sources:
            return None
        return self.level(children, child_sources, child_outputs,
                          Path(path, key, plan.parent_type.name))

    @staticmethod
    def serialize(serialize, value):
        try:
            result = serialize(value)
        except Exception:
            raise Fallback from None
        if result is None:
            raise Fallback
        return result


async def _settle(pending: list[tuple[list, int, Any]]) -> None:
    """Await every awaitable of a level, writing each result into its slot; raise
    :class:`Fallback` if any failed.

    The loader's futures of a level are all settled by one batch: they are awaited one by
    one, which costs no event-loop callback per value (``gather`` would add one to each).
    Coroutines (``async def`` resolvers) are stepped here rather than wrapped in tasks
    (:class:`_Stepper`): each runs until it awaits a future, all of them before any is
    awaited, so their loads still share one batch per round.
    """
    futures, steppers = [], []
    for values, index, awaitable in pending:
        if isinstance(awaitable, asyncio.Future):
            futures.append((values, index, awaitable))
        elif iscoroutine(awaitable):
            steppers.append(_Stepper(values, index, awaitable))
        else:
            futures.append((values, index, asyncio.ensure_future(awaitable)))
    pending.clear()  # each is now owned here: nothing for the caller to close
    failed = False
    try:
        waiting = [s for s in steppers if s.step()]
        for values, index, future in futures:
            try:
                values[index] = await future
            except Exception:
                failed = True
        while waiting:
            for stepper in waiting:
                await stepper.ready()
            waiting = [s for s in waiting if s.step()]
    finally:
        for stepper in steppers:
            stepper.close()
    if failed or any(s.failed for s in steppers):
        raise Fallback


class _Stepper:
    """Runs one coroutine step by step (what a task would do, minus the event-loop round
    trips): :meth:`step` resumes it until it awaits an asyncio future (``True``: call
    :meth:`ready`, then step again) or finishes (``False``: its value is in its slot, or
    :attr:`failed` is set). Anything else it awaits is refused (``failed``): the caller
    then falls back to graphql-core, which runs it as a task."""

    __slots__ = ("values", "index", "coroutine", "context", "future", "failed", "done")

    def __init__(self, values: list, index: int, coroutine):
        self.values, self.index, self.coroutine = values, index, coroutine
        self.context = contextvars.copy_context()  # as a task would run it
        self.future = None
        self.failed = self.done = False

    def step(self) -> bool:
        try:
            awaited = self.context.run(self.coroutine.send, None)
        except StopIteration as stop:
            self.values[self.index], self.done = stop.value, True
            return False
        except (Exception, asyncio.CancelledError):  # a failed resolver: graphql-core reports it
            self.failed = self.done = True
            return False
        if not isinstance(awaited, asyncio.Future) or \
                not getattr(awaited, "_asyncio_future_blocking", False):
            self.failed = True
            return False
        awaited._asyncio_future_blocking = False
        self.future = awaited
        return True

    async def ready(self) -> None:
        """Wait until the awaited future is done (its result or error is delivered to the
        coroutine by the next :meth:`step`)."""
        if not self.future.done():
            try:
                await self.future
            except Exception:  # noqa: BLE001 - the coroutine receives it at its next step
                pass

    def close(self) -> None:
        if not self.done:
            self.coroutine.close()
            self.done = True


async def execute_plan(schema: GraphQLSchema, plan: Plan, context, variables) -> dict:
    """``data`` for ``plan``; raises :class:`Fallback` where graphql-core must answer.

    ``variables`` are the coerced :class:`graphql.execution.values.VariableValues`.
    """
    data: dict = {}
    await _Run(schema, plan, context, variables).level(plan.fields, [None], [data], None)
    return data
