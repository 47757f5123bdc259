"""Mutation payloads: ``ok`` plus field errors, instead of top-level errors for bad input.

A mutation resolver decorated with :func:`mutation_payload` returns its payload fields as a
dict; raising :class:`FieldErrors` (or a marshmallow ``ValidationError``) inside it rolls back
what it wrote (a savepoint) and answers ``{"ok": false, "errors": [{field, messages}]}``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from .errors import GraphQLUserError


class FieldErrors(GraphQLUserError):
    """Input problems by field: ``FieldErrors({"email": ["Already taken."]})``.

    Use the key ``None`` (or ``"_schema"``) for a problem with the input as a whole. Inside a
    :func:`mutation_payload` resolver it becomes ``ok: false``; raised elsewhere (a query's
    bad argument) the client reads its message as a ``BAD_USER_INPUT`` error.
    """

    def __init__(self, errors: Mapping[str | None, list[str] | str]):
        self.errors = {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k or 'input'}: {', '.join(v)}"
                                   for k, v in self.errors.items()))

    @classmethod
    def from_marshmallow(cls, error) -> FieldErrors:
        return cls(_flatten(error.normalized_messages()))

    def as_list(self) -> list[dict]:
        """``[{"field": ..., "messages": [...]}]`` for the ``FieldError`` type."""
        return [{"field": None if k in (None, "_schema") else k, "messages": v}
                for k, v in self.errors.items()]


def _flatten(messages, prefix: str = "") -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        out[prefix or None] = list(messages)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for k, v in _flatten(item, prefix).items():
                out.setdefault(k, []).extend(v)
    else:
        out[prefix or None] = [str(messages)]
    return out


def _empty_lists(info) -> dict:
    """``[]`` for each non-null list field of the payload type and ``false`` for each non-null
    Boolean, so that a refused mutation (nothing was done) answers ``ok: false`` with its
    errors instead of a null where the schema promises a value (the fuzzer found
    ``generateUnits`` with a bad building id, and ``TicketsMessagePayload.emailed``)."""
    from graphql import GraphQLBoolean, get_named_type, is_list_type, is_non_null_type

    payload_type = get_named_type(getattr(info, "return_type", None))
    fields = getattr(payload_type, "fields", None) or {}
    out: dict = {}
    for name, f in fields.items():
        if name in ("ok", "errors") or not is_non_null_type(f.type):
            continue
        if is_list_type(f.type.of_type):
            out[name] = []
        elif f.type.of_type is GraphQLBoolean:  # "did it happen": nothing happened
            out[name] = False
    return out


def payload(errors: FieldErrors | None = None, **fields) -> dict:
    """A payload dict: ``payload(account=acc)`` or ``payload(FieldErrors(...))``."""
    return {"ok": errors is None, "errors": errors.as_list() if errors else [], **fields}


#: arguments that carry free-form JSON: the keys below them are the client's, kept as sent
JSON_ARGUMENTS = frozenset({"params", "settings", "preferences", "variables"})


def field_path(key: str | None) -> str | None:
    """An error key the way the schema names it: ``price_override`` -> ``priceOverride``,
    ``items.0.service_id`` -> ``items.0.serviceId``; keys inside JSON arguments stay as sent
    (``params.download_mbps``)."""
    if not key or key == "_schema":
        return None if key == "_schema" else key
    from .names import camel

    out, raw = [], False
    for part in key.split("."):
        out.append(part if raw or part.isdigit() else camel(part))
        raw = raw or part in JSON_ARGUMENTS
    return ".".join(out)


def schema_names(errors: FieldErrors) -> FieldErrors:
    """One naming of fields in every mutation's errors (camelCase, as the schema)."""
    renamed: dict[str | None, list[str]] = {}
    for key, messages in errors.errors.items():
        renamed.setdefault(field_path(key), []).extend(messages)
    errors.errors = renamed
    return errors


def mutation_payload(resolver: Callable) -> Callable:
    """Run the resolver in a savepoint; turn :class:`FieldErrors` into ``ok: false``."""
    from marshmallow import ValidationError

    from backhaul.core.db import db

    @functools.wraps(resolver)
    def wrapper(obj, info, **kwargs):
        savepoint = db.session.begin_nested()
        try:
            result = resolver(obj, info, **kwargs)
        except (FieldErrors, ValidationError) as exc:
            savepoint.rollback()
            follow_up = getattr(exc, "after_rollback", None)
            if follow_up is not None:  # e.g. recording a failed re-authentication
                follow_up()
            errors = exc if isinstance(exc, FieldErrors) else FieldErrors.from_marshmallow(exc)
            return {**_empty_lists(info), **payload(schema_names(errors))}
        except BaseException:
            savepoint.rollback()
            raise
        if savepoint.is_active:
            savepoint.commit()
        if result is None:
            return payload()
        if isinstance(result, dict):
            return result if "ok" in result else payload(**result)
        raise TypeError("a @mutation_payload resolver returns a dict of its payload's fields")

    return wrapper
