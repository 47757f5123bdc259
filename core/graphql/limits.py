"""Limits that reject a query before any resolver runs: tokens, depth, aliases and cost.

* tokens — graphql-core stops *parsing* after ``max_tokens`` lexical tokens;
* depth — nesting of fields (fragments followed; introspection fields not counted);
* aliases — aliased fields in the document (each alias can re-run a resolver);
* cost — every field costs 1; a field with a ``first`` argument (a connection) multiplies
  the cost of what is selected under it by ``first`` (or its default page size), so a list
  of 100 rows with 5 fields each costs about 500, a list in a list multiplies. A plain list
  field multiplies too: by its ``limit`` argument when it has one, else by
  ``list_estimate`` (``GRAPHQL_LIST_ESTIMATE``, 10) — a list without ``first`` once counted
  as 1, and ``children { parent { children ... } }`` returned 1.5 M nodes to a read token.

Each rejection is a validation error naming the limit and its setting (``LIMIT_EXCEEDED``).
"""
from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationType,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    value_from_ast,
)
from graphql.language import DocumentNode

from .errors import limit_error


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 10000
    max_source_length: int = 100_000
    default_page_size: int = 20
    max_page_size: int = 100
    list_estimate: int = 10

    @classmethod
    def from_config(cls, config) -> Limits:
        def get(name, default):
            return int(config.get(name, default))

        return cls(max_depth=get("GRAPHQL_MAX_DEPTH", cls.max_depth),
                   max_aliases=get("GRAPHQL_MAX_ALIASES", cls.max_aliases),
                   max_tokens=get("GRAPHQL_MAX_TOKENS", cls.max_tokens),
                   max_cost=get("GRAPHQL_MAX_COST", cls.max_cost),
                   default_page_size=get("GRAPHQL_DEFAULT_PAGE_SIZE", cls.default_page_size),
                   max_page_size=get("GRAPHQL_MAX_PAGE_SIZE", cls.max_page_size),
                   list_estimate=get("GRAPHQL_LIST_ESTIMATE", cls.list_estimate))


def parse_limited(query: str, limits: Limits) -> DocumentNode:
    """Parse ``query``; a token or size overflow raises a ``LIMIT_EXCEEDED`` error."""
    if len(query) > limits.max_source_length:
        raise limit_error("size", "the query text length", limits.max_source_length,
                          len(query))
    try:
        return parse(query, max_lexical_tokens=limits.max_tokens,
                     max_comments=limits.max_tokens)
    except GraphQLError as exc:
        if "tokens" in exc.message or "comments" in exc.message:
            raise limit_error("token", "GRAPHQL_MAX_TOKENS", limits.max_tokens) from None
        raise


class _Walker:
    """Walks an operation's selections with their types, following fragments once per path."""

    def __init__(self, context, variables: dict | None, limits: Limits):
        self.context, self.variables, self.limits = context, variables or {}, limits

    def selections(self, selection_set, parent_type, path=frozenset()):
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection, parent_type
            elif isinstance(selection, InlineFragmentNode):
                type_ = parent_type
                if selection.type_condition is not None:
                    type_ = self.context.schema.get_type(selection.type_condition.name.value)
                yield from self.selections(selection.selection_set, type_, path)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in path:
                    continue  # unknown or cyclic: the specified rules report it
                type_ = self.context.schema.get_type(fragment.type_condition.name.value)
                yield from self.selections(fragment.selection_set, type_, path | {name})

    @staticmethod
    def field_def(parent_type, node: FieldNode):
        if isinstance(parent_type, GraphQLObjectType | GraphQLInterfaceType):
            return parent_type.fields.get(node.name.value)
        return None

    def depth(self, selection_set, parent_type, seen=0) -> int:
        deepest = seen
        if seen > self.limits.max_depth:
            return seen  # over already (this also ends fragment cycles through fields)
        for node, type_ in self.selections(selection_set, parent_type):
            if node.name.value.startswith("__"):
                continue
            field = self.field_def(type_, node)
            child = get_named_type(field.type) if field else None
            deepest = max(deepest, self.depth(node.selection_set, child, seen + 1))
        return deepest

    _connection_lists = frozenset({"edges", "nodes"})

    def _in_connection(self, node: FieldNode) -> bool:
        return node.name.value in self._connection_lists and self._parent_is_connection

    _parent_is_connection = False

    def _argument(self, node: FieldNode, field, name: str, fallback: int) -> int:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = value_from_ast(argument.value, field.args[name].type, self.variables)
                return max(int(value), 0) if isinstance(value, int) else fallback
        default = field.args[name].default_value
        return default if isinstance(default, int) else fallback

    def multiplier(self, node: FieldNode, field) -> int:
        if field is None:
            return 1
        if "first" in field.args:
            return self._argument(node, field, "first", self.limits.default_page_size)
        if not is_list_type(get_nullable_type(field.type)):
            return 1
        if self._in_connection(node):  # edges/nodes: the connection's first counted them
            return 1
        if "limit" in field.args:
            return self._argument(node, field, "limit", self.limits.list_estimate)
        return self.limits.list_estimate

    def cost(self, selection_set, parent_type) -> int:
        total = 0
        for node, type_ in self.selections(selection_set, parent_type):
            if node.name.value.startswith("__"):
                continue
            field = self.field_def(type_, node)
            child = get_named_type(field.type) if field else None
            self._parent_is_connection = getattr(type_, "name", "").endswith("Connection")
            total += 1 + self.multiplier(node, field) * self.cost(node.selection_set, child)
            if total > self.limits.max_cost:
                return total  # no need to count on: it is over
        return total


def check(schema, document: DocumentNode, limits: Limits,
          variables: dict | None) -> list[GraphQLError]:
    """The limit errors of ``document`` (at most one): aliases, then depth and cost.

    Runs the walker directly, without a validation pass over the whole document (a
    ``ValidationRule`` that stops at once still has graphql-core visit every node).
    """
    context = _Context(schema, {d.name.value: d for d in document.definitions
                                if isinstance(d, FragmentDefinitionNode)})
    aliases = sum(_count_aliases(d.selection_set) for d in document.definitions
                  if hasattr(d, "selection_set"))
    if aliases > limits.max_aliases:
        return [limit_error("alias", "GRAPHQL_MAX_ALIASES", limits.max_aliases, aliases)]
    walker = _Walker(context, variables, limits)
    for definition in document.definitions:
        operation = getattr(definition, "operation", None)
        if operation is None:
            continue
        root = {OperationType.QUERY: schema.query_type,
                OperationType.MUTATION: schema.mutation_type}.get(operation)
        depth = walker.depth(definition.selection_set, root)
        if depth > limits.max_depth:
            return [limit_error("depth", "GRAPHQL_MAX_DEPTH", limits.max_depth, depth,
                                [definition])]
        cost = walker.cost(definition.selection_set, root)
        if cost > limits.max_cost:
            return [limit_error("cost", "GRAPHQL_MAX_COST", limits.max_cost, cost,
                                [definition])]
    return []


@dataclass
class _Context:
    """What the walker needs of a validation context."""

    schema: object
    fragments: dict

    def get_fragment(self, name: str):
        return self.fragments.get(name)


def rules(limits: Limits, variables: dict | None) -> list[type[ValidationRule]]:
    """The limits as a validation rule (for callers that validate with graphql-core)."""

    class LimitRule(ValidationRule):
        def enter_document(self, node, *_args):
            for error in check(self.context.schema, node, limits, variables):
                self.report_error(error)
            return self.BREAK

    return [LimitRule]


def _count_aliases(selection_set) -> int:
    count = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode) and selection.alias is not None:
            count += 1
        count += _count_aliases(getattr(selection, "selection_set", None))
    return count
