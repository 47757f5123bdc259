"""Marshmallow fields that validate *and normalise*: e-mail, phone (E.164), country, due time.

Every schema of the accounts kernel builds on :class:`BaseSchema`, which strips strings, turns
empty form values into ``None`` for non-text fields and ignores unknown keys (form posts carry
a CSRF token), so the same schema serves HTML forms, GraphQL inputs and CSV rows.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app, has_app_context
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from backhaul.core.db import utcnow

_EMAIL = re.compile(r"^[^@\s]{1,64}@(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                    r"[a-z]{2,63}$")
#: a due time may lie this far in the past (a form submitted "now" arrives a moment later)
PAST_GRACE = timedelta(minutes=2)


def accounts_setting(name: str, default):
    if not has_app_context():
        return default
    plugins = current_app.extensions.get("backhaul.plugins")
    if plugins is None or "accounts" not in plugins.records:
        return default
    return plugins.settings("accounts").get(name, default)


def default_country() -> str:
    return str(accounts_setting("default_country", "US")).upper()


def local_zone() -> ZoneInfo:
    """The ISP's zone: "on 31 December" is that day where the ISP is."""
    name = current_app.config.get("TIMEZONE", "UTC") if has_app_context() else "UTC"
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


def staff_zone() -> ZoneInfo:
    """The zone a staff member types times in (their own, default the ISP's)."""
    from ..auth.staff import staff_zone as zone

    return zone()


def normalise_email(value: str) -> str:
    """Lower-case and check an e-mail address; raises ``ValueError`` with a readable reason."""
    email = (value or "").strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(f"'{value}' is not a valid e-mail address (expected name@example.com).")
    return email


def normalise_phone(value: str, region: str | None = None) -> str:
    """A phone number in E.164 (``+14155552671``); national numbers use ``region``."""
    region = (region or default_country()).upper()
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(f"'{value}' is not a valid phone number for {region}: write it with "
                         f"its country code, e.g. +1 415 555 2671.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Email(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_email(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Phone(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalise_phone(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Country(fields.String):
    """An ISO 3166 alpha-2 code; empty means the configured default country."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", text):
            raise ValidationError(f"'{value}' is not a two-letter country code (e.g. US, CA).")
        return text


class DueTime(fields.Field):
    """A future point in time: an ISO datetime (naive = local time zone) or a date.

    A date means the start of that day in the configured time zone; today means *now*. A time
    more than a moment in the past is refused: scheduling is for the future.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        now = utcnow()
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = value
        else:
            text = str(value).strip()
            try:
                moment = (date.fromisoformat(text) if len(text) == 10
                          else datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                raise ValidationError(f"'{value}' is not a date (2026-12-31) or a date and "
                                      "time (2026-12-31T09:00).") from None
        zone = local_zone()
        if not isinstance(moment, datetime):
            if moment < now.astimezone(zone).date():
                raise ValidationError(f"{moment.isoformat()} is in the past: choose today or a "
                                      "later date.")
            moment = max(datetime.combine(moment, time(0), zone).astimezone(UTC), now)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=staff_zone())  # a time: the staff member's
        moment = moment.astimezone(UTC)
        if moment < now - PAST_GRACE:
            raise ValidationError(f"{moment.isoformat(timespec='minutes')} is in the past: "
                                  "choose a time from now on.")
        return max(moment, now) if moment < now else moment


class LocalDateTime(fields.Field):
    """An ISO date and time; without an offset it is read in the staff member's time zone."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError(f"'{value}' is not a date and time "
                                      "(2026-12-31T09:00).") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=staff_zone())
        return moment.astimezone(UTC)


class BaseSchema(Schema):
    """Strip strings; ``""`` means "not given" for fields that are not text."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _clean(self, data, **kwargs):
        if not hasattr(data, "items"):
            return data
        out, nul = {}, {}
        for key, value in data.items():
            if isinstance(value, str) and "\x00" in value:
                nul[key] = ["Must not contain NUL characters."]
            if isinstance(value, str):
                value = value.strip()
                field = self.fields.get(key) or next(
                    (f for f in self.fields.values() if f.data_key == key), None)
                if value == "" and field is not None and not isinstance(field, fields.String):
                    continue
                if value == "" and isinstance(field, (Email, Phone, Country)):
                    value = None
            out[key] = value
        if nul:  # text with NUL cannot be stored on PostgreSQL and is never meant
            raise ValidationError(nul)
        return out
