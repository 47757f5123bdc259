"""Input schemas of the accounts kernel (marshmallow): one per action, field-level errors.

The same schema validates a form post, a GraphQL input and a CSV row. Checks that need the
database (does this status exist, is this address taken) live in the domain functions, which
raise ``ValidationError`` keyed by the same field names.
"""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .fields import BaseSchema, Country, DueTime, Email, LocalDateTime, Phone
from .models import (
    ACCOUNT_TYPES,
    NOTE_CATEGORIES,
    PREFERENCE_CATEGORIES,
    PREFERENCE_CHANNELS,
)

_name = validate.Length(min=1, max=200)
_speed = validate.Range(min=0, max=1_000_000)
TECHNOLOGIES = ("", "fiber", "fixed_wireless", "cable", "dsl", "ethernet", "other")


class ServiceabilitySchema(BaseSchema):
    serviceable = fields.Boolean(load_default=False)
    technology = fields.String(load_default="", validate=validate.OneOf(
        TECHNOLOGIES, error="Must be one of: " + ", ".join(t for t in TECHNOLOGIES if t) + "."))
    max_down_mbps = fields.Integer(load_default=None, allow_none=True, validate=_speed)
    max_up_mbps = fields.Integer(load_default=None, allow_none=True, validate=_speed)
    serviceability_notes = fields.String(load_default="", validate=validate.Length(max=2000))


class AddressSchema(ServiceabilitySchema):
    street = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(load_default="", validate=validate.Length(max=32))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default="", validate=validate.Length(max=100))
    postal_code = fields.String(load_default="", validate=validate.Length(max=20))
    country = Country(load_default=None, allow_none=True)
    latitude = fields.Decimal(load_default=None, allow_none=True, places=6,
                              validate=validate.Range(min=-90, max=90))
    longitude = fields.Decimal(load_default=None, allow_none=True, places=6,
                               validate=validate.Range(min=-180, max=180))
    building_id = fields.Integer(load_default=None, allow_none=True)


class BuildingSchema(BaseSchema):
    name = fields.String(required=True, validate=_name)
    street = fields.String(required=True, validate=validate.Length(min=1, max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default="", validate=validate.Length(max=100))
    postal_code = fields.String(load_default="", validate=validate.Length(max=20))
    country = Country(load_default=None, allow_none=True)
    latitude = fields.Decimal(load_default=None, allow_none=True, places=6,
                              validate=validate.Range(min=-90, max=90))
    longitude = fields.Decimal(load_default=None, allow_none=True, places=6,
                               validate=validate.Range(min=-180, max=180))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class UnitGenerationSchema(ServiceabilitySchema):
    """Either ``pattern`` ("101-124, 201-224, PH1-PH2") or floors x units per floor."""

    pattern = fields.String(load_default="")
    floors = fields.String(load_default="")  # "1-5" or "2,3,5"
    units_per_floor = fields.Integer(load_default=None, allow_none=True,
                                     validate=validate.Range(min=1, max=200))
    unit_format = fields.String(load_default="{floor}{unit:02d}",
                                validate=validate.Length(max=40))

    @validates_schema
    def _one_way(self, data, **kwargs):
        if not data.get("pattern") and not (data.get("floors") and data.get("units_per_floor")):
            raise ValidationError("Give a unit pattern such as 101-124, or floors and units "
                                  "per floor.", "pattern")


class AccountSchema(BaseSchema):
    name = fields.String(required=True, validate=_name)
    account_type = fields.String(load_default="residential", validate=validate.OneOf(
        ACCOUNT_TYPES, error="Must be one of: " + ", ".join(ACCOUNT_TYPES) + "."))
    status = fields.String(load_default=None, allow_none=True)
    number = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=32))
    parent_id = fields.Integer(load_default=None, allow_none=True)
    address_id = fields.Integer(load_default=None, allow_none=True)
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                         load_default=list)


class AccountUpdateSchema(AccountSchema):
    name = fields.String(validate=_name)
    account_type = fields.String(validate=validate.OneOf(
        ACCOUNT_TYPES, error="Must be one of: " + ", ".join(ACCOUNT_TYPES) + "."))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=64)))


def _preferences_ok(value) -> bool:
    if not isinstance(value, dict):
        raise ValidationError("Preferences must map a category to channels.")
    for category, channels in value.items():
        if category not in PREFERENCE_CATEGORIES:
            raise ValidationError(f"Unknown category '{category}'. Categories: "
                                  f"{', '.join(PREFERENCE_CATEGORIES)}.")
        if not isinstance(channels, dict) or any(
                c not in PREFERENCE_CHANNELS or not isinstance(v, bool)
                for c, v in channels.items()):
            raise ValidationError(f"'{category}' must map channels "
                                  f"({', '.join(PREFERENCE_CHANNELS)}) to true or false.")
    return True


class ContactSchema(BaseSchema):
    name = fields.String(required=True, validate=_name)
    email = Email(load_default=None, allow_none=True)
    phone = Phone(load_default=None, allow_none=True)
    is_primary = fields.Boolean(load_default=False)
    is_financial = fields.Boolean(load_default=False)
    portal_access = fields.Boolean(load_default=False)
    preferences = fields.Dict(load_default=None, allow_none=True, validate=_preferences_ok)

    @validates_schema
    def _reachable(self, data, partial=None, **kwargs):
        if partial:
            return
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an e-mail address or a phone number.", "email")
        if data.get("portal_access") and not data.get("email"):
            raise ValidationError("Portal access needs an e-mail address to sign in with.",
                                  "email")


class NoteSchema(BaseSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    category = fields.String(load_default="general", validate=validate.OneOf(
        NOTE_CATEGORIES, error="Must be one of: " + ", ".join(NOTE_CATEGORIES) + "."))
    pinned = fields.Boolean(load_default=False)


class CallSchema(BaseSchema):
    direction = fields.String(required=True, validate=validate.OneOf(
        ("inbound", "outbound"), error="Must be inbound or outbound."))
    contact_id = fields.Integer(load_default=None, allow_none=True)
    at = LocalDateTime(load_default=None, allow_none=True)
    duration_seconds = fields.Integer(load_default=0, validate=validate.Range(
        min=0, max=24 * 3600, error="Must be between 0 and 86400 seconds."))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class ScheduleEventSchema(BaseSchema):
    action = fields.String(required=True)
    due_at = DueTime(required=True)
    params = fields.Dict(load_default=dict)


class RescheduleSchema(BaseSchema):
    due_at = DueTime(required=True)


class OnboardSchema(BaseSchema):
    """The few fields of a move-in: who, how to reach them, where (an address id)."""

    address_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=_name)
    email = Email(load_default=None, allow_none=True)
    phone = Phone(load_default=None, allow_none=True)
    account_type = fields.String(load_default="residential", validate=validate.OneOf(
        ACCOUNT_TYPES, error="Must be one of: " + ", ".join(ACCOUNT_TYPES) + "."))
    status = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _reachable(self, data, **kwargs):
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an e-mail address or a phone number.", "email")


class MoveOutSchema(BaseSchema):
    on = DueTime(required=True)
    status = fields.String(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
