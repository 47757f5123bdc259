"""A form for any extension's settings, generated from its marshmallow schema.

Used for configured instances (:mod:`backhaul.sdk.instances`) of every kind — channels,
gateway accounts, devices — third-party ones too: strings become text inputs (password
inputs for secret fields, a textarea for templates), integers number inputs, booleans
checkboxes, ``OneOf`` selects, lists one value per line. Render the fields with the
``settings_fields`` macro of ``macros/forms.html``; a stored secret is never sent back to the
browser (its input stays empty with the placeholder "unchanged", and blank keeps it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import fields, missing, validate


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    type: str
    required: bool
    options: list | None
    secret: bool
    default: Any
    #: a mapping, edited as JSON in a textarea
    json: bool = False


def _default(field) -> Any:
    value = field.load_default
    if value is missing:
        return None
    return value() if callable(value) else value


def describe(schema_cls, secrets: tuple[str, ...]) -> list[SettingField]:
    """One :class:`SettingField` per schema field, in declaration order."""
    out: list[SettingField] = []
    if schema_cls is None:
        return out
    for name, field in schema_cls().fields.items():
        options = next((list(v.choices) for v in field.validators
                        if isinstance(v, validate.OneOf)), None)
        if name in secrets:
            kind = "password"
        elif options:
            kind = "select"
        elif isinstance(field, fields.Boolean):
            kind = "checkbox"
        elif isinstance(field, fields.Integer):
            kind = "number"
        elif (isinstance(field, fields.List | fields.Dict) or name.endswith("template")):
            kind = "textarea"
        else:
            kind = "text"
        out.append(SettingField(name, name.replace("_", " ").capitalize(), kind,
                                bool(field.required), options, name in secrets,
                                _default(field), isinstance(field, fields.Dict)))
    return out


def fields_for(extension: Any) -> list[SettingField]:
    """The form fields of an extension's ``settings_schema`` (its secrets marked)."""
    from backhaul.core.instances import secret_fields

    return describe(getattr(extension, "settings_schema", None), secret_fields(extension))


def parse(form, specs: list[SettingField]) -> dict:
    """Raw settings from a submitted form (``settings.<name>`` inputs)."""
    raw: dict[str, Any] = {}
    for spec in specs:
        key = f"settings.{spec.name}"
        if spec.type == "checkbox":
            raw[spec.name] = bool(form.get(key))
            continue
        value = form.get(key, "")
        if spec.json:
            raw[spec.name] = _json_or_text(value) if value.strip() else spec.default
        elif spec.type == "textarea" and isinstance(spec.default, list):
            raw[spec.name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif value != "" or spec.required:
            raw[spec.name] = value
    return raw


def _json_or_text(value: str) -> Any:
    """A mapping typed as JSON; anything unparsable stays text, which the schema refuses
    with its own field-level message."""
    import json

    try:
        return json.loads(value[:100_000])
    except ValueError:
        return value


def display_values(settings: dict, specs: list[SettingField]) -> dict:
    """Values to show in the form: secrets never shown, lists one per line."""
    out = {}
    for spec in specs:
        value = settings.get(spec.name, spec.default)
        if spec.secret:
            value = ""
        elif spec.json and value is not None:
            import json

            value = json.dumps(value, indent=1)
        elif isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        out[spec.name] = value
    return out
