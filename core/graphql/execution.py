"""Running one GraphQL request: parse and validate under the limits, then execute.

Independent of Flask so it can be tested and benchmarked directly: :func:`run` takes the
decoded body and a :class:`Context` and returns ``(HTTP status, JSON body)``. Nothing is
executed unless the whole document passed validation (limits included).

Execution runs on a short-lived event loop so that batched loaders can collect keys across
sibling resolvers; plain synchronous resolvers work unchanged.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.validation import NoSchemaIntrospectionCustomRule

from . import fastpath
from . import limits as limits_mod
from .errors import format_error
from .loaders import Loader, reset_loader, use_loader
from .permissions import is_read_only

log = logging.getLogger("backhaul.graphql")

#: Queries run on :mod:`.fastpath` when it can answer them (tests switch it off to compare).
FASTPATH = True


@dataclass
class Context:
    """``info.context`` in every resolver."""

    principal: Any
    request: Any = None
    loader: Loader = field(default_factory=Loader)
    extra: dict = field(default_factory=dict)


def is_staff(principal) -> bool:
    """Signed-in staff (users and their API tokens) may introspect the schema; a principal
    that says ``is_staff = False`` (a future portal customer) may not."""
    return principal.is_authenticated and getattr(principal, "is_staff", True) is not False


def _errors(status: int, *errors) -> tuple[int, dict]:
    return status, {"errors": [format_error(e) if isinstance(e, GraphQLError) else e
                               for e in errors]}


def request_error(message: str, code: str = "BAD_REQUEST") -> dict:
    return {"message": message, "extensions": {"code": code}}


def run(schema: GraphQLSchema, body: Any, context: Context,
        limits: limits_mod.Limits) -> tuple[int, dict, OperationType | None]:
    """Execute ``body`` (``{"query", "variables", "operationName"}``).

    Returns ``(status, response, operation type)``: 400 for a request that cannot run
    (malformed, invalid, over a limit), 401 for an anonymous caller, 403 for a mutation by a
    read-only token, otherwise 200 with ``data`` and any field ``errors``.
    """
    if not isinstance(body, dict):
        return (*_errors(400, request_error("The body must be a JSON object with a 'query' "
                                            "string (batched requests are not supported).")),
                None)
    query, variables = body.get("query"), body.get("variables")
    operation_name = body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        return (*_errors(400, request_error("The body needs a 'query' string.")), None)
    if variables is not None and not isinstance(variables, dict):
        return (*_errors(400, request_error("'variables' must be a JSON object.")), None)
    if operation_name is not None and not isinstance(operation_name, str):
        return (*_errors(400, request_error("'operationName' must be a string.")), None)
    if not context.principal.is_authenticated:
        return (*_errors(401, request_error("Sign in, or send an API token as "
                                            "'Authorization: Bearer ...'.", "UNAUTHENTICATED")),
                None)
    try:
        prepared = _prepare(schema, query, limits, is_staff(context.principal))
    except GraphQLError as exc:
        return (*_errors(400, exc), None)
    document = prepared.document
    problems = prepared.problems or limits_mod.check(schema, document, limits, variables)
    if problems:
        return (*_errors(400, *problems), None)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return (*_errors(400, request_error("Name the operation to run with 'operationName' "
                                            "(the document has several, or not this one).")),
                None)
    kind = operation.operation
    if kind is OperationType.SUBSCRIPTION:
        return (*_errors(400, request_error("Subscriptions are not supported over HTTP.")), kind)
    if kind is OperationType.MUTATION and is_read_only(context.principal):
        return (*_errors(403, request_error("This API token is read-only: mutations need a "
                                            "token with a wider scope.", "READ_ONLY_TOKEN")),
                kind)
    plan = prepared.plan(schema, operation_name) \
        if FASTPATH and kind is OperationType.QUERY else None
    result = _execute(schema, document, context, variables, operation_name, plan)
    if result.data is None and result.errors and all(e.path is None for e in result.errors):
        # refused before execution began (variables that do not fit their types)
        return (*_errors(400, *result.errors), kind)
    response: dict = {"data": result.data}
    if result.errors:
        response["errors"] = [format_error(e) for e in result.errors]
    return 200, response, kind


def _execute(schema, document, context: Context, variables, operation_name, plan=None):
    async def go():
        token = use_loader(context.loader)
        try:
            if plan is not None:
                fast = await _execute_fast(schema, plan, context, variables)
                if fast is not None:
                    return fast
                context.loader.close()
                context.loader = Loader()  # nothing half-loaded leaks into the second run
                reset_loader(token)
                token = use_loader(context.loader)
            result = execute(schema, document, context_value=context, variable_values=variables,
                             operation_name=operation_name)
            if isawaitable(result):
                result = await result
            return result
        finally:
            context.loader.close()
            reset_loader(token)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_on_thread_loop(go())
    # A loop already runs in this thread (an embedding async server; Playwright's sync API in
    # tests): run ours on a helper thread that carries this thread's context (app, db session,
    # actor). The caller blocks, so the session is never used from two threads at once.
    context_copy = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context_copy.run, asyncio.run, go()).result()


_thread = threading.local()


def _run_on_thread_loop(coroutine):
    """Run ``coroutine`` on this thread's event loop, kept from one request to the next
    (``asyncio.run`` makes and closes a loop every time: half a millisecond, and it formats
    the result's repr). Nothing outlives the request: leftover tasks are cancelled, and a
    closed loader ignores a batch still scheduled."""
    loop = getattr(_thread, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread.loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        leftovers = asyncio.all_tasks(loop)
        if leftovers:
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))


async def _execute_fast(schema, plan, context, variables) -> ExecutionResult | None:
    """The fast path's result, or ``None`` when graphql-core must run (see :mod:`.fastpath`)."""
    coerced = get_variable_values(schema, plan.operation.variable_definitions or (),
                                  variables or {})
    if isinstance(coerced, list):
        return None  # graphql-core reports the variables that do not fit
    try:
        return ExecutionResult(await fastpath.execute_plan(schema, plan, context, coerced))
    except fastpath.Fallback:
        return None


# ------------------------------------------------------------------------------ document cache
@dataclass
class Prepared:
    """A parsed document and its (limit-free) validation result, cached by query text."""

    document: Any
    problems: list
    plans: dict = field(default_factory=dict)

    def plan(self, schema, operation_name):
        if operation_name not in self.plans:
            self.plans[operation_name] = fastpath.compile_plan(schema, self.document,
                                                               operation_name)
        return self.plans[operation_name]


#: Documents kept per schema; only texts up to CACHE_MAX_QUERY characters are kept.
CACHE_SIZE = 256
CACHE_MAX_QUERY = 20_000
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _prepare(schema, query: str, limits: limits_mod.Limits, staff: bool) -> Prepared:
    """Parse (under the token limit) and validate with the specified rules, cached.

    The limit rules are not part of the cached result: the cost depends on the variables,
    so the caller checks them on every request. Raises the parse error (never cached).
    """
    key = (query, staff, limits.max_tokens, limits.max_source_length)
    with _cache_lock:
        per_schema = _cache.setdefault(schema, OrderedDict())
        prepared = per_schema.get(key)
        if prepared is not None:
            per_schema.move_to_end(key)
            return prepared
    document = limits_mod.parse_limited(query, limits)
    rules = list(specified_rules)
    if not staff:
        rules.append(NoSchemaIntrospectionCustomRule)
    prepared = Prepared(document, validate(schema, document, rules))
    if len(query) <= CACHE_MAX_QUERY:
        with _cache_lock:
            per_schema[key] = prepared
            while len(per_schema) > CACHE_SIZE:
                per_schema.popitem(last=False)
    return prepared
