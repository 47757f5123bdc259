"""Marshmallow schemas for the auth forms; their error dicts feed the form macros."""
from __future__ import annotations

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import MultiDict

from .passwords import MAX_LENGTH


def form_data(form: MultiDict, lists: tuple[str, ...] = ()) -> dict:
    """A form as a dict for ``Schema.load``: empty fields left out, ``lists`` as lists."""
    data = {}
    for key in form:
        if key in lists:
            data[key] = [v for v in form.getlist(key) if v != ""]
        elif form.get(key, "") != "":
            data[key] = form.get(key)
    return data


def _required(what: str) -> dict:
    return {"required": f"Enter {what}.", "null": f"Enter {what}."}


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE


class LoginSchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         error_messages={**_required("your e-mail address"),
                                         "invalid": "Enter a valid e-mail address."})
    password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH),
                             error_messages=_required("your password"))


def _code(value: str) -> None:
    if not re.fullmatch(r"\d{6}", value.replace(" ", "")):
        raise ValidationError("Enter the 6-digit code from your authenticator app.")


class CodeSchema(_Form):
    code = fields.String(required=True, validate=_code,
                         error_messages=_required("the 6-digit code"))


class PasswordChangeSchema(_Form):
    current_password = fields.String(required=True,
                                     error_messages=_required("your current password"))
    new_password = fields.String(required=True, error_messages=_required("a new password"))
    confirm_password = fields.String(required=True,
                                     error_messages=_required("the new password again"))

    @validates_schema
    def _same(self, data, **kwargs):
        if data.get("new_password") != data.get("confirm_password"):
            raise ValidationError("The two new passwords differ.", "confirm_password")


class PasswordSchema(_Form):
    """Confirms an action with the current password (disabling two-factor)."""

    current_password = fields.String(required=True,
                                     error_messages=_required("your current password"))


class UserSchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         error_messages={**_required("an e-mail address"),
                                         "invalid": "Enter a valid e-mail address."})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         error_messages=_required("a name"))
    password = fields.String(load_default=None)
    roles = fields.List(fields.Integer(), load_default=list)
    is_active = fields.Boolean(load_default=False)


class RoleSchema(_Form):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         error_messages=_required("a name"))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    permissions = fields.List(fields.String(), load_default=list)


class TokenSchema(_Form):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         error_messages=_required("a name that says what uses the token"))
    scope = fields.String(load_default="read", validate=validate.OneOf(
        ["read", "custom", "full"], error="Choose read-only, selected permissions or full."))
    permissions = fields.List(fields.String(), load_default=list)
    expires_in_days = fields.Integer(load_default=None, allow_none=True,
                                     validate=validate.Range(min=1, max=3650),
                                     error_messages={"invalid": "Enter a number of days."})
    networks = fields.String(load_default="", validate=validate.Length(max=2000))
