"""Describe a service type's parameters from its marshmallow schema.

Forms (the staff UI), GraphQL (``serviceTypes { parameters }``) and other plugins (through
:func:`backhaul.plugins.billing.api.service_type_parameters`) all read one description, so
a plugin's own service type gets its form for free: it declares a schema, nothing else.

A field may carry ``metadata={"label": ..., "help": ...}``; otherwise the label is the
field's name in words.
"""
from __future__ import annotations

from marshmallow import Schema, fields, missing, validate

#: marshmallow field class -> the type name forms and clients understand
_TYPES: tuple[tuple[type, str], ...] = (
    (fields.Boolean, "boolean"), (fields.Integer, "integer"), (fields.Decimal, "decimal"),
    (fields.Float, "decimal"), (fields.Date, "date"), (fields.Email, "string"),
    (fields.String, "string"), (fields.List, "list"),
)


#: unit suffixes of parameter names, shown in the default label ("download_mbps" ->
#: "Download (Mbps)")
_UNITS = {"mbps": "(Mbps)", "kbps": "(kbps)", "gb": "(GB)", "mb": "(MB)", "minutes": "(minutes)"}


def _label(name: str) -> str:
    words = name.split("_")
    unit = _UNITS.get(words[-1]) if len(words) > 1 else None
    if unit:
        words = [*words[:-1], unit]
    return " ".join(words).capitalize().replace("(mbps)", "(Mbps)").replace("(gb)", "(GB)") \
        .replace("(mb)", "(MB)")


def _type(field: fields.Field) -> str:
    for cls, name in _TYPES:
        if isinstance(field, cls):
            return name
    return "string"


def _bounds(field: fields.Field) -> dict:
    out: dict = {}
    for rule in field.validators:
        if isinstance(rule, validate.Range):
            if rule.min is not None:
                out["min"] = rule.min
            if rule.max is not None:
                out["max"] = rule.max
        elif isinstance(rule, validate.Length) and rule.max is not None:
            out["max_length"] = rule.max
        elif isinstance(rule, validate.OneOf):
            out["choices"] = list(rule.choices)
    return out


def describe_schema(schema: type[Schema] | Schema | None) -> list[dict]:
    """``[{name, type, required, label, help, default, min, max, item_type...}, ...]``."""
    if schema is None:
        return []
    instance = schema() if isinstance(schema, type) else schema
    described = []
    for name, field in instance.fields.items():
        if field.dump_only:
            continue
        entry = {"name": name, "type": _type(field), "required": bool(field.required),
                 "label": field.metadata.get("label") or _label(name),
                 "help": field.metadata.get("help", "")}
        default = field.load_default
        if default is not None and not callable(default) and default is not missing:
            entry["default"] = default
        if isinstance(field, fields.List):
            entry["item_type"] = _type(field.inner)
        entry.update(_bounds(field))
        described.append(entry)
    return described


__all__ = ["describe_schema"]
